/**
 * Framing of a peer `batch` payload:
 *
 *   varUint count, count × varUint8Array message
 *
 * Each inner message is a complete peer message as encodePeerMessage writes
 * it. A batch never holds a hello (the handshake is one frame on its own) or
 * another batch (no recursion, so one payload costs one pass). Compression is
 * the server's job: it deflates this payload and must cap the inflated size
 * at maxPayloadBytes before handing it here.
 */
import * as encoding from 'lib0/encoding'
import { DecodeError, MeridianError } from '../errors.js'
import { SafeReader } from './reader.js'
import {
  PeerMessageType,
  decodePeerMessage,
  resolvePeerLimits,
  type PeerDecodeLimits,
  type PeerMessage,
} from './peer-messages.js'

const checkInnerType = (type: number, index: number): string | undefined => {
  if (type === PeerMessageType.Batch) return `batch message ${index}: a batch may not contain a batch`
  if (type === PeerMessageType.Hello) return `batch message ${index}: a batch may not contain a hello`
  return undefined
}

/** Frames already-encoded peer messages into a batch payload. */
export const encodeBatchPayload = (messages: readonly Uint8Array[]): Uint8Array => {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, messages.length)
  messages.forEach((m, i) => {
    // Every type fits one varint byte, so the first byte is the type.
    const problem = m.length === 0 ? `batch message ${i}: empty` : checkInnerType(m[0]!, i)
    if (problem !== undefined) throw new MeridianError('bad-value', problem)
    encoding.writeVarUint8Array(enc, m)
  })
  return encoding.toUint8Array(enc)
}

/**
 * Splits a (decompressed) batch payload into its inner encoded messages,
 * which are views of `payload`. Checks the framing and each inner type, not
 * the inner bodies: decode those with decodePeerMessage, or use
 * decodeBatchMessages. Throws only DecodeError.
 */
export const decodeBatchPayload = (payload: Uint8Array, limits?: PeerDecodeLimits): Uint8Array[] => {
  const l = resolvePeerLimits(limits)
  if (payload.length > l.maxPayloadBytes) {
    throw new DecodeError('too-large', `batch payload: ${payload.length} bytes over limit ${l.maxPayloadBytes}`)
  }
  const r = new SafeReader(payload)
  const count = r.readVarUint('batch count')
  if (count > l.maxBatchMessages) throw new DecodeError('bad-length', `batch: ${count} messages over limit ${l.maxBatchMessages}`)
  // Each frame is at least a length byte and a type byte; checking first
  // means a lying count cannot make us allocate for messages that are not there.
  if (count * 2 > r.remaining) throw new DecodeError('bad-length', `batch: count ${count} cannot fit in ${r.remaining} bytes`)
  const out: Uint8Array[] = new Array<Uint8Array>(count)
  for (let i = 0; i < count; i++) {
    const frame = r.readVarBytes(`batch message ${i}`, l.maxPayloadBytes)
    const type = new SafeReader(frame).readVarUint(`batch message ${i} type`)
    const problem = checkInnerType(type, i)
    if (problem !== undefined) throw new DecodeError('bad-value', problem)
    out[i] = frame
  }
  r.expectEnd('batch payload')
  return out
}

/** Splits and fully decodes a batch payload. Throws only DecodeError. */
export const decodeBatchMessages = (payload: Uint8Array, limits?: PeerDecodeLimits): PeerMessage[] =>
  decodeBatchPayload(payload, limits).map((frame) => decodePeerMessage(frame, limits))
