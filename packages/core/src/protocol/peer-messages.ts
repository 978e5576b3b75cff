/**
 * Relay-to-relay ("peer") protocol, version 2.
 *
 * Every message is one binary WebSocket frame: `varUint type`, then the
 * fields below, and nothing after them (leftover bytes are an error).
 *
 *   type  message                fields
 *   0     hello                  varUint version, varString relayId, varString region,
 *                                varString policyHash, float64 time, varUint8Array nonce,
 *                                varUint8Array auth
 *   1     catchup-request        varUint sinceSeq
 *   2     catchup-done           varUint upToSeq
 *   3     sync-step1             varString doc, varUint8Array stateVector
 *   4     sync-step2             varString doc, varUint8Array update, varUint seq
 *   5     delta                  varString doc, varUint8Array update, varString originRegion,
 *                                float64 originTime, varUint seq
 *   6     ack                    varUint seq
 *   7     digest                 varUint count (= PEER_DIGEST_BUCKETS), count × varUint8Array hash
 *   8     digest-bucket-request  varUint bucket
 *   9     digest-bucket          varUint bucket, varUint count, count × (varString doc, varUint8Array hash)
 *   10    refused                varString doc, varString reason
 *   11    batch                  uint8 flags, payload (the rest of the frame, no length)
 *
 *   batch flags: bit 0 (BATCH_FLAG_COMPRESSED) the payload is deflate-raw;
 *   bit 1 (BATCH_FLAG_STREAM) the frame belongs to its direction's stream,
 *   and bits 2–7 hold its position in that stream modulo 64. A stream
 *   frame's payload, once inflated, is appended to the direction's
 *   dictionary: the last PEER_LINK_DICTIONARY_BYTES payload bytes of the
 *   stream frames before it; a compressed stream frame is deflated with that
 *   dictionary preset and a window of the same size (deflate-raw window
 *   bits 12), so a small delta costs a few back-references into the deltas
 *   before it. A frame out of position (lost, repeated or reordered, which
 *   TCP never does) is refused before it is inflated, and closes the link.
 *   Frames without bit 1 stand alone (bits 2–7 zero) and touch no dictionary.
 *
 *   batch payload (after inflating): varUint count, count × varUint8Array message
 *
 * varUint is lib0's 7-bit little-endian varint (at most 53 bits here);
 * varString is a varUint byte length then strict UTF-8; float64 is IEEE 754
 * big-endian. The type and version of hello never move, so any future
 * version can still be read far enough to be refused (see readHelloVersion).
 *
 * Decoded byte fields (update, stateVector, nonce, auth, hashes, payload) are
 * subarray views of the input, not copies: a caller that keeps one beyond the
 * life of the input buffer, or hands the buffer to someone who mutates it,
 * must copy it first. Views keep hot-path decoding allocation-free.
 *
 * Version 2 added the batch stream (version 1 had bit 0 only) and dropped
 * the batch payload's length prefix, which the frame already gives; versions must
 * match, so a relay speaking 1 is refused at the hello with a reason.
 */
import * as encoding from 'lib0/encoding'
import { MeridianError } from '../errors.js'

export const PEER_PROTOCOL_VERSION = 2

export const PeerMessageType = {
  Hello: 0, CatchupRequest: 1, CatchupDone: 2, SyncStep1: 3, SyncStep2: 4, Delta: 5,
  Ack: 6, Digest: 7, DigestBucketRequest: 8, DigestBucket: 9, Refused: 10, Batch: 11,
} as const
export type PeerMessageTypeValue = (typeof PeerMessageType)[keyof typeof PeerMessageType]

/** Anti-entropy splits the document space into this many buckets (see digestBucketOf). */
export const PEER_DIGEST_BUCKETS = 256
/** Relay ids and region names: short, because they appear in every delta and every log line. */
export const PEER_MAX_ID_BYTES = 64
export const PEER_MAX_POLICY_HASH_BYTES = 128
/** Room for any digest or MAC up to SHA-512 / HMAC-SHA-512. */
export const PEER_MAX_HASH_BYTES = 64
/** A nonce shorter than 8 bytes is too easy to collide for replay detection. */
export const PEER_MIN_NONCE_BYTES = 8
export const PEER_MAX_NONCE_BYTES = 64
export const BATCH_FLAG_COMPRESSED = 0x01
export const BATCH_FLAG_STREAM = 0x02
/** Stream positions wrap at this modulus (the six high bits of the flags). */
export const BATCH_STREAM_POSITIONS = 64
/**
 * How far back a stream frame may refer. Deltas of a steady link repeat
 * document names, regions and Yjs client ids within a few frames, and a
 * small window keeps deflate's per-frame setup cheap.
 */
export const PEER_LINK_DICTIONARY_BYTES = 4096

export interface HelloMessage {
  type: 'hello'
  version: number
  relayId: string
  region: string
  policyHash: string
  /** Sender's wall clock, ms since the epoch (float64). */
  time: number
  nonce: Uint8Array
  /** MAC computed by the server over helloSigningBytes; core never checks it. */
  auth: Uint8Array
}
export interface DigestEntry {
  doc: string
  hash: Uint8Array
}
/**
 * Every `seq` is a watermark in the sender's change feed (every entry up to
 * it that this peer may receive has been sent), 0 meaning no claim; see
 * docs/protocol-peer.md for the flow and the rule.
 */
export type PeerMessage =
  | HelloMessage
  | { type: 'catchup-request'; sinceSeq: number }
  | { type: 'catchup-done'; upToSeq: number }
  | { type: 'sync-step1'; doc: string; stateVector: Uint8Array }
  | { type: 'sync-step2'; doc: string; update: Uint8Array; seq: number }
  | { type: 'delta'; doc: string; update: Uint8Array; originRegion: string; originTime: number; seq: number }
  | { type: 'ack'; seq: number }
  | { type: 'digest'; buckets: Uint8Array[] }
  | { type: 'digest-bucket-request'; bucket: number }
  | { type: 'digest-bucket'; bucket: number; entries: DigestEntry[] }
  | { type: 'refused'; doc: string; reason: string }
  /** `stream`: the frame's stream position modulo BATCH_STREAM_POSITIONS, or null for a standalone frame. */
  | { type: 'batch'; compressed: boolean; stream: number | null; payload: Uint8Array }
export type PeerMessageKind = PeerMessage['type']
export type PeerMessageOf<K extends PeerMessageKind> = Extract<PeerMessage, { type: K }>
export type HelloFields = Omit<HelloMessage, 'type' | 'auth'>

export interface PeerDecodeLimits {
  /** Largest byte field (update, state vector, batch payload). Over it: 'bad-length'. */
  maxPayloadBytes?: number
  /** Largest doc name or refusal reason, in UTF-8 bytes. Over it: 'bad-length'. */
  maxStringBytes?: number
  /** Most entries in a digest bucket. Over it: 'bad-length'. */
  maxListLength?: number
  /** Most inner messages in one batch. Over it: 'bad-length'. */
  maxBatchMessages?: number
  /** Largest whole message; over it: 'too-large' before anything is read. */
  maxMessageBytes?: number
}

export const DEFAULT_PEER_LIMITS: Readonly<Required<PeerDecodeLimits>> = Object.freeze({
  maxPayloadBytes: 64 * 1024 * 1024,
  maxStringBytes: 4096,
  maxListLength: 100_000,
  maxBatchMessages: 10_000,
  // The WebSocket layer caps frame size; this is a second, optional fence.
  maxMessageBytes: Number.MAX_SAFE_INTEGER,
})

export const resolvePeerLimits = (limits?: PeerDecodeLimits): Readonly<Required<PeerDecodeLimits>> => {
  if (limits === undefined) return DEFAULT_PEER_LIMITS
  const d = DEFAULT_PEER_LIMITS
  return {
    maxPayloadBytes: limits.maxPayloadBytes ?? d.maxPayloadBytes, maxStringBytes: limits.maxStringBytes ?? d.maxStringBytes,
    maxListLength: limits.maxListLength ?? d.maxListLength, maxBatchMessages: limits.maxBatchMessages ?? d.maxBatchMessages,
    maxMessageBytes: limits.maxMessageBytes ?? d.maxMessageBytes,
  }
}

// ---- encoding ---------------------------------------------------------------
// Encoders check values cheaply: lib0 would silently write garbage for a
// negative or fractional varint, and TextEncoder would silently turn a lone
// surrogate into U+FFFD, renaming a document on the far side.

const utf8Encoder = new TextEncoder()
const loneSurrogate = /\p{Surrogate}/u

const invalid = (message: string): MeridianError => new MeridianError('bad-value', `peer message: ${message}`)

const writeStr = (enc: encoding.Encoder, field: string, value: string, minBytes: number, maxBytes: number): void => {
  if (loneSurrogate.test(value)) throw invalid(`${field} contains a lone surrogate (not encodable as UTF-8)`)
  const bytes = utf8Encoder.encode(value)
  if (bytes.length < minBytes || bytes.length > maxBytes) {
    throw invalid(`${field} must be ${minBytes}..${maxBytes} UTF-8 bytes, got ${bytes.length}`)
  }
  encoding.writeVarUint8Array(enc, bytes)
}

const writeSeq = (enc: encoding.Encoder, field: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${field} must be a non-negative safe integer, got ${value}`)
  encoding.writeVarUint(enc, value)
}

const writeTime = (enc: encoding.Encoder, field: string, value: number): void => {
  if (!Number.isFinite(value)) throw invalid(`${field} must be finite, got ${value}`)
  encoding.writeFloat64(enc, value)
}

const writeBytes = (enc: encoding.Encoder, field: string, value: Uint8Array, minBytes: number, maxBytes: number): void => {
  if (value.length < minBytes || value.length > maxBytes) {
    throw invalid(`${field} must be ${minBytes}..${maxBytes} bytes, got ${value.length}`)
  }
  encoding.writeVarUint8Array(enc, value)
}

const ANY = Number.MAX_SAFE_INTEGER

const start = (type: PeerMessageTypeValue): encoding.Encoder => {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, type)
  return enc
}

const writeHelloBody = (enc: encoding.Encoder, h: HelloFields): void => {
  if (!Number.isSafeInteger(h.version) || h.version < 1) throw invalid(`version must be a positive integer, got ${h.version}`)
  encoding.writeVarUint(enc, h.version)
  writeStr(enc, 'relayId', h.relayId, 1, PEER_MAX_ID_BYTES)
  writeStr(enc, 'region', h.region, 1, PEER_MAX_ID_BYTES)
  writeStr(enc, 'policyHash', h.policyHash, 0, PEER_MAX_POLICY_HASH_BYTES)
  writeTime(enc, 'time', h.time)
  writeBytes(enc, 'nonce', h.nonce, PEER_MIN_NONCE_BYTES, PEER_MAX_NONCE_BYTES)
}

export const encodeHello = (hello: Omit<HelloMessage, 'type'>): Uint8Array => {
  const enc = start(PeerMessageType.Hello)
  writeHelloBody(enc, hello)
  writeBytes(enc, 'auth', hello.auth, 1, PEER_MAX_HASH_BYTES)
  return encoding.toUint8Array(enc)
}

/** Separates these bytes from anything else the same secret might ever MAC. */
const HELLO_SIGNING_CONTEXT = 'meridian/peer-hello/v1'

/**
 * The canonical bytes the server's MAC over a hello covers: a context label,
 * then the hello's fields in wire order (each length-prefixed, so distinct
 * field values can never produce the same bytes). A responder passes the
 * nonce of the hello it answers as `answering`, binding its reply to that
 * handshake so the reply cannot be replayed into another one; the initiator
 * leaves it empty.
 */
export const helloSigningBytes = (msg: HelloFields, answering: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, HELLO_SIGNING_CONTEXT)
  writeHelloBody(enc, msg)
  writeBytes(enc, 'answering', answering, 0, PEER_MAX_NONCE_BYTES)
  return encoding.toUint8Array(enc)
}

const seqOnly = (type: PeerMessageTypeValue, field: string, seq: number): Uint8Array => {
  const enc = start(type)
  writeSeq(enc, field, seq)
  return encoding.toUint8Array(enc)
}

export const encodeCatchupRequest = (sinceSeq: number): Uint8Array => seqOnly(PeerMessageType.CatchupRequest, 'sinceSeq', sinceSeq)
export const encodeCatchupDone = (upToSeq: number): Uint8Array => seqOnly(PeerMessageType.CatchupDone, 'upToSeq', upToSeq)
export const encodeAck = (seq: number): Uint8Array => seqOnly(PeerMessageType.Ack, 'seq', seq)

export const encodeSyncStep1 = (doc: string, stateVector: Uint8Array): Uint8Array => {
  const enc = start(PeerMessageType.SyncStep1)
  writeStr(enc, 'doc', doc, 1, ANY)
  encoding.writeVarUint8Array(enc, stateVector)
  return encoding.toUint8Array(enc)
}

export const encodeSyncStep2 = (doc: string, update: Uint8Array, seq = 0): Uint8Array => {
  const enc = start(PeerMessageType.SyncStep2)
  writeStr(enc, 'doc', doc, 1, ANY)
  encoding.writeVarUint8Array(enc, update)
  writeSeq(enc, 'seq', seq)
  return encoding.toUint8Array(enc)
}

export const encodeDelta = (doc: string, update: Uint8Array, originRegion: string, originTime: number, seq: number): Uint8Array => {
  const enc = start(PeerMessageType.Delta)
  writeStr(enc, 'doc', doc, 1, ANY)
  encoding.writeVarUint8Array(enc, update)
  writeStr(enc, 'originRegion', originRegion, 1, PEER_MAX_ID_BYTES)
  writeTime(enc, 'originTime', originTime)
  writeSeq(enc, 'seq', seq)
  return encoding.toUint8Array(enc)
}

export const encodeDigest = (buckets: readonly Uint8Array[]): Uint8Array => {
  if (buckets.length !== PEER_DIGEST_BUCKETS) throw invalid(`digest needs ${PEER_DIGEST_BUCKETS} buckets, got ${buckets.length}`)
  const enc = start(PeerMessageType.Digest)
  encoding.writeVarUint(enc, buckets.length)
  for (const hash of buckets) writeBytes(enc, 'bucket hash', hash, 0, PEER_MAX_HASH_BYTES)
  return encoding.toUint8Array(enc)
}

const writeBucket = (enc: encoding.Encoder, bucket: number): void => {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= PEER_DIGEST_BUCKETS) {
    throw invalid(`bucket must be an integer in 0..${PEER_DIGEST_BUCKETS - 1}, got ${bucket}`)
  }
  encoding.writeVarUint(enc, bucket)
}

export const encodeDigestBucketRequest = (bucket: number): Uint8Array => {
  const enc = start(PeerMessageType.DigestBucketRequest)
  writeBucket(enc, bucket)
  return encoding.toUint8Array(enc)
}

export const encodeDigestBucket = (bucket: number, entries: readonly DigestEntry[]): Uint8Array => {
  const enc = start(PeerMessageType.DigestBucket)
  writeBucket(enc, bucket)
  encoding.writeVarUint(enc, entries.length)
  for (const e of entries) {
    writeStr(enc, 'doc', e.doc, 1, ANY)
    writeBytes(enc, 'doc hash', e.hash, 0, PEER_MAX_HASH_BYTES)
  }
  return encoding.toUint8Array(enc)
}

export const encodeRefused = (doc: string, reason: string): Uint8Array => {
  const enc = start(PeerMessageType.Refused)
  writeStr(enc, 'doc', doc, 1, ANY)
  writeStr(enc, 'reason', reason, 0, ANY)
  return encoding.toUint8Array(enc)
}

/**
 * `payload` is encodeBatchPayload's output, deflated by the caller when
 * `compressed`; `stream` is the frame's position in its direction's stream
 * (any non-negative integer, sent modulo BATCH_STREAM_POSITIONS) or null.
 */
export const encodeBatch = (compressed: boolean, payload: Uint8Array, stream: number | null = null): Uint8Array => {
  if (stream !== null && (!Number.isSafeInteger(stream) || stream < 0)) throw invalid(`batch stream position must be a non-negative integer, got ${stream}`)
  const enc = start(PeerMessageType.Batch)
  const streamBits = stream === null ? 0 : BATCH_FLAG_STREAM | ((stream % BATCH_STREAM_POSITIONS) << 2)
  encoding.writeUint8(enc, (compressed ? BATCH_FLAG_COMPRESSED : 0) | streamBits)
  encoding.writeUint8Array(enc, payload)
  return encoding.toUint8Array(enc)
}

export const encodePeerMessage = (msg: PeerMessage): Uint8Array => {
  switch (msg.type) {
    case 'hello': return encodeHello(msg)
    case 'catchup-request': return encodeCatchupRequest(msg.sinceSeq)
    case 'catchup-done': return encodeCatchupDone(msg.upToSeq)
    case 'sync-step1': return encodeSyncStep1(msg.doc, msg.stateVector)
    case 'sync-step2': return encodeSyncStep2(msg.doc, msg.update, msg.seq)
    case 'delta': return encodeDelta(msg.doc, msg.update, msg.originRegion, msg.originTime, msg.seq)
    case 'ack': return encodeAck(msg.seq)
    case 'digest': return encodeDigest(msg.buckets)
    case 'digest-bucket-request': return encodeDigestBucketRequest(msg.bucket)
    case 'digest-bucket': return encodeDigestBucket(msg.bucket, msg.entries)
    case 'refused': return encodeRefused(msg.doc, msg.reason)
    case 'batch': return encodeBatch(msg.compressed, msg.payload, msg.stream)
  }
}

/**
 * Which digest bucket a document belongs to: 32-bit FNV-1a over the name's
 * UTF-8 bytes, modulo PEER_DIGEST_BUCKETS. Part of the protocol: both relays
 * must agree on it, so it never changes within a protocol version.
 */
export const digestBucketOf = (doc: string): number => {
  let h = 0x811c9dc5
  for (const byte of utf8Encoder.encode(doc)) {
    h ^= byte
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % PEER_DIGEST_BUCKETS
}

export { decodePeerMessage, decodeHello, readHelloVersion } from './peer-messages-decode.js'
