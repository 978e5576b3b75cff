/**
 * Client wire protocol: the y-websocket protocol, byte-for-byte, plus
 * Meridian's opt-in extensions. One WebSocket binary message is one message.
 *
 *   message            = varUint messageType, body
 *
 *   0   sync           = varUint syncType, ...
 *         0 step1      =   varUint8Array stateVector   (Y.encodeStateVector)
 *         1 step2      =   varUint8Array update        (Y.encodeStateAsUpdate)
 *         2 update     =   varUint8Array update
 *   1   awareness      = varUint8Array awarenessUpdate (see awareness-update.ts)
 *   2   auth           = varUint authType
 *         0 denied     =   varString reason
 *   3   query-awareness (no body)
 *
 *   4–99     left to upstream y-protocols / y-websocket.
 *   100–127  reserved for Meridian: every such type is a one-byte varUint.
 *            Sent by a relay only after the client's meridian-hello, so a
 *            stock y-websocket client never receives one.
 *   100 meridian-hello = varUint version, varUint featureBits  (client → relay)
 *   101 durable-ack    = varUint8Array stateVector             (relay → client)
 *         the relay's state vector of the document as of its latest durable write
 *   102 relay-info     = varString region, varString relayId,  (relay → client)
 *                        varUint n, n × varString allowedRegion
 *   103 refusal        = varUint closeCode, varString reason,  (relay → client,
 *                        varUint n, n × varString servingRegion  then it closes)
 *   104 durable-barrier = varUint id                          (client → relay)
 *   105 barrier-durable = varUint id                          (relay → client)
 *         the barrier's id echoed once everything the client sent before the
 *         barrier is durable: it proves what a state vector cannot name
 *         (deletions). Answered only after meridian-hello.
 *   106–127 free.
 *
 *   varUint       = LEB128, 7 bits per byte, at most 53 bits (lib0)
 *   varUint8Array = varUint length, bytes
 *   varString     = varUint8Array of UTF-8
 *
 * Decoded byte fields are subarray views of the input message, not copies:
 * copy them before reusing the input buffer.
 */
import * as encoding from 'lib0/encoding'
import { DecodeError, MeridianError } from '../errors.js'
import { SafeReader } from './reader.js'

export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  MeridianHello: 100,
  DurableAck: 101,
  RelayInfo: 102,
  Refusal: 103,
  DurableBarrier: 104,
  BarrierDurable: 105,
} as const

export const SyncMessageType = { Step1: 0, Step2: 1, Update: 2 } as const
export const AuthMessageType = { PermissionDenied: 0 } as const

/** Inclusive bounds of the message types Meridian reserves for itself. */
export const MERIDIAN_TYPE_RANGE = { first: 100, last: 127 } as const

export const MERIDIAN_CLIENT_PROTOCOL_VERSION = 1

/** Bit flags in meridian-hello; a relay ignores bits it does not know. */
export const ClientFeature = { DurableAck: 1, RelayInfo: 2 } as const

export const hasFeature = (features: number, feature: number): boolean => Math.floor(features / feature) % 2 === 1

export type ClientMessage =
  | { type: 'sync-step1'; stateVector: Uint8Array }
  | { type: 'sync-step2'; update: Uint8Array }
  | { type: 'sync-update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'auth-denied'; reason: string }
  | { type: 'query-awareness' }
  | { type: 'meridian-hello'; version: number; features: number }
  | { type: 'durable-ack'; stateVector: Uint8Array }
  | { type: 'relay-info'; region: string; relayId: string; regions: string[] }
  | { type: 'refusal'; code: number; reason: string; regions: string[] }
  | { type: 'durable-barrier'; id: number }
  | { type: 'barrier-durable'; id: number }

export interface ClientDecodeLimits {
  /** Most bytes in one update, state vector or awareness field. */
  maxPayloadBytes?: number
  /** Most UTF-8 bytes in one string field. */
  maxStringBytes?: number
  /** Most entries in one region list. */
  maxListLength?: number
}

/**
 * Payloads are only bounded by the message itself by default: the relay caps
 * whole frames at the WebSocket layer, and documents legitimately send large
 * step2 updates. Strings and lists are metadata and stay small.
 */
export const DEFAULT_CLIENT_DECODE_LIMITS: Readonly<Required<ClientDecodeLimits>> = Object.freeze({
  maxPayloadBytes: Number.MAX_SAFE_INTEGER,
  maxStringBytes: 4096,
  maxListLength: 256,
})

/** Close codes a refusal may carry: the RFC 6455 ranges a peer may send. */
const MIN_CLOSE_CODE = 1000
const MAX_CLOSE_CODE = 4999

// ---------------------------------------------------------------- decoding

/**
 * Decodes one client-protocol message. Throws only `DecodeError`; unknown
 * message, sync or auth types are 'unknown-type', leftover bytes are
 * 'trailing-bytes'. State vectors are checked structurally (so Yjs never sees
 * a malformed one); updates and awareness payloads are returned unparsed.
 */
export function decodeClientMessage(bytes: Uint8Array, limits: ClientDecodeLimits = {}): ClientMessage {
  const maxPayload = limits.maxPayloadBytes ?? DEFAULT_CLIENT_DECODE_LIMITS.maxPayloadBytes
  const maxString = limits.maxStringBytes ?? DEFAULT_CLIENT_DECODE_LIMITS.maxStringBytes
  const maxList = limits.maxListLength ?? DEFAULT_CLIENT_DECODE_LIMITS.maxListLength
  const r = new SafeReader(bytes)
  const type = r.readVarUint('message type')
  let msg: ClientMessage
  switch (type) {
    case MessageType.Sync: {
      const sub = r.readVarUint('sync type')
      if (sub === SyncMessageType.Step1) msg = { type: 'sync-step1', stateVector: readStateVector(r, 'sync-step1', maxPayload) }
      else if (sub === SyncMessageType.Step2) msg = { type: 'sync-step2', update: r.readVarBytes('sync-step2 update', maxPayload) }
      else if (sub === SyncMessageType.Update) msg = { type: 'sync-update', update: r.readVarBytes('sync-update update', maxPayload) }
      else throw new DecodeError('unknown-type', `unknown sync message type ${sub}`)
      break
    }
    case MessageType.Awareness:
      msg = { type: 'awareness', update: r.readVarBytes('awareness update', maxPayload) }
      break
    case MessageType.Auth: {
      const sub = r.readVarUint('auth type')
      if (sub !== AuthMessageType.PermissionDenied) throw new DecodeError('unknown-type', `unknown auth message type ${sub}`)
      msg = { type: 'auth-denied', reason: r.readVarString('auth reason', maxString) }
      break
    }
    case MessageType.QueryAwareness:
      msg = { type: 'query-awareness' }
      break
    case MessageType.MeridianHello: {
      const version = r.readVarUint('hello version')
      if (version < 1) throw new DecodeError('bad-value', 'meridian-hello: protocol version 0 does not exist')
      msg = { type: 'meridian-hello', version, features: r.readVarUint('hello features') }
      break
    }
    case MessageType.DurableAck:
      msg = { type: 'durable-ack', stateVector: readStateVector(r, 'durable-ack', maxPayload) }
      break
    case MessageType.RelayInfo: {
      const region = r.readVarString('relay-info region', maxString)
      const relayId = r.readVarString('relay-info relayId', maxString)
      msg = { type: 'relay-info', region, relayId, regions: readStringList(r, 'relay-info regions', maxList, maxString) }
      break
    }
    case MessageType.Refusal: {
      const code = r.readVarUint('refusal code')
      if (code < MIN_CLOSE_CODE || code > MAX_CLOSE_CODE) throw new DecodeError('bad-value', `refusal: ${code} is not a close code`)
      const reason = r.readVarString('refusal reason', maxString)
      msg = { type: 'refusal', code, reason, regions: readStringList(r, 'refusal regions', maxList, maxString) }
      break
    }
    case MessageType.DurableBarrier:
      msg = { type: 'durable-barrier', id: r.readVarUint('durable-barrier id') }
      break
    case MessageType.BarrierDurable:
      msg = { type: 'barrier-durable', id: r.readVarUint('barrier-durable id') }
      break
    default:
      throw new DecodeError('unknown-type', `unknown message type ${type}`)
  }
  r.expectEnd(msg.type)
  return msg
}

function readStringList(r: SafeReader, field: string, maxList: number, maxString: number): string[] {
  const n = r.readVarUint(`${field} count`)
  if (n > maxList) throw new DecodeError('bad-length', `${field}: ${n} entries over limit ${maxList}`)
  // Each string costs at least its one-byte length prefix.
  if (n > r.remaining) throw new DecodeError('bad-length', `${field}: ${n} entries cannot fit in ${r.remaining} bytes`)
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(r.readVarString(field, maxString))
  return out
}

/**
 * A state vector is `varUint n, n × (varUint client, varUint clock)`. Yjs
 * decodes it with unchecked lib0 reads, so the shape is verified here, at the
 * edge, where a failure is still a DecodeError.
 */
function readStateVector(r: SafeReader, what: string, maxPayload: number): Uint8Array {
  const sv = r.readVarBytes(`${what} state vector`, maxPayload)
  const inner = new SafeReader(sv)
  const n = inner.readVarUint(`${what} state vector count`)
  if (n * 2 > inner.remaining) {
    throw new DecodeError('bad-length', `${what}: state vector claims ${n} entries in ${inner.remaining} bytes`)
  }
  // Field names built once: this loop runs per entry of a client-sized input.
  const clientField = `${what} state vector client`
  const clockField = `${what} state vector clock`
  for (let i = 0; i < n; i++) {
    inner.readVarUint(clientField)
    inner.readVarUint(clockField)
  }
  inner.expectEnd(`${what} state vector`)
  return sv
}

// ---------------------------------------------------------------- encoding

/**
 * Writes the varUint prefix, then copies the payload once into an exactly
 * sized buffer: the relay encodes each update once and fans the same bytes
 * out, so this sits on the hot path.
 */
function framed(type: number, sub: number | null, payload: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, type)
  if (sub !== null) encoding.writeVarUint(enc, sub)
  encoding.writeVarUint(enc, payload.length)
  const head = encoding.toUint8Array(enc)
  const out = new Uint8Array(head.length + payload.length)
  out.set(head, 0)
  out.set(payload, head.length)
  return out
}

export const encodeSyncStep1 = (sv: Uint8Array): Uint8Array => framed(MessageType.Sync, SyncMessageType.Step1, sv)
export const encodeSyncStep2 = (update: Uint8Array): Uint8Array => framed(MessageType.Sync, SyncMessageType.Step2, update)
export const encodeSyncUpdate = (update: Uint8Array): Uint8Array => framed(MessageType.Sync, SyncMessageType.Update, update)
export const encodeAwareness = (update: Uint8Array): Uint8Array => framed(MessageType.Awareness, null, update)
export const encodeDurableAck = (sv: Uint8Array): Uint8Array => framed(MessageType.DurableAck, null, sv)

const QUERY_AWARENESS = Uint8Array.of(MessageType.QueryAwareness)
/** A fresh copy each time so a caller mutating it cannot corrupt later sends. */
export const encodeQueryAwareness = (): Uint8Array => QUERY_AWARENESS.slice()

export function encodeAuthDenied(reason: string): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.Auth)
  encoding.writeVarUint(enc, AuthMessageType.PermissionDenied)
  encoding.writeVarString(enc, reason)
  return encoding.toUint8Array(enc)
}

export function encodeMeridianHello(version: number, features: number): Uint8Array {
  assertUint(version, 'meridian-hello version', 1)
  assertUint(features, 'meridian-hello features', 0)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.MeridianHello)
  encoding.writeVarUint(enc, version)
  encoding.writeVarUint(enc, features)
  return encoding.toUint8Array(enc)
}

export function encodeRelayInfo(region: string, relayId: string, regions: readonly string[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.RelayInfo)
  encoding.writeVarString(enc, region)
  encoding.writeVarString(enc, relayId)
  writeStringList(enc, regions)
  return encoding.toUint8Array(enc)
}

export function encodeRefusal(code: number, reason: string, regions: readonly string[]): Uint8Array {
  assertUint(code, 'refusal code', MIN_CLOSE_CODE, MAX_CLOSE_CODE)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MessageType.Refusal)
  encoding.writeVarUint(enc, code)
  encoding.writeVarString(enc, reason)
  writeStringList(enc, regions)
  return encoding.toUint8Array(enc)
}

export const encodeDurableBarrier = (id: number): Uint8Array => encodeId(MessageType.DurableBarrier, id, 'durable-barrier id')
export const encodeBarrierDurable = (id: number): Uint8Array => encodeId(MessageType.BarrierDurable, id, 'barrier-durable id')

function encodeId(type: number, id: number, field: string): Uint8Array {
  assertUint(id, field, 0)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, type)
  encoding.writeVarUint(enc, id)
  return encoding.toUint8Array(enc)
}

export function encodeClientMessage(msg: ClientMessage): Uint8Array {
  switch (msg.type) {
    case 'sync-step1': return encodeSyncStep1(msg.stateVector)
    case 'sync-step2': return encodeSyncStep2(msg.update)
    case 'sync-update': return encodeSyncUpdate(msg.update)
    case 'awareness': return encodeAwareness(msg.update)
    case 'auth-denied': return encodeAuthDenied(msg.reason)
    case 'query-awareness': return encodeQueryAwareness()
    case 'meridian-hello': return encodeMeridianHello(msg.version, msg.features)
    case 'durable-ack': return encodeDurableAck(msg.stateVector)
    case 'relay-info': return encodeRelayInfo(msg.region, msg.relayId, msg.regions)
    case 'refusal': return encodeRefusal(msg.code, msg.reason, msg.regions)
    case 'durable-barrier': return encodeDurableBarrier(msg.id)
    case 'barrier-durable': return encodeBarrierDurable(msg.id)
    default: {
      const never: never = msg
      throw new MeridianError('invalid-message', `unknown client message ${JSON.stringify(never)}`)
    }
  }
}

function writeStringList(enc: encoding.Encoder, list: readonly string[]): void {
  encoding.writeVarUint(enc, list.length)
  for (const s of list) encoding.writeVarString(enc, s)
}

function assertUint(n: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  // lib0 writes garbage for negatives, fractions and values past 2^53, and the
  // decoder would reject what we sent; fail at the sender instead.
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MeridianError('invalid-message', `${field}: expected an integer in [${min}, ${max}], got ${n}`)
  }
}
