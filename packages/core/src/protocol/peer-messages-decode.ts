/**
 * Decoding of relay-to-relay messages (layouts at the top of peer-messages.ts).
 * Every function throws only DecodeError; byte fields are views of the input.
 */
import { DecodeError } from '../errors.js'
import { SafeReader } from './reader.js'
import {
  PeerMessageType,
  PEER_DIGEST_BUCKETS,
  PEER_MAX_ID_BYTES,
  PEER_MAX_POLICY_HASH_BYTES,
  PEER_MAX_HASH_BYTES,
  PEER_MIN_NONCE_BYTES,
  PEER_MAX_NONCE_BYTES,
  BATCH_FLAG_COMPRESSED,
  BATCH_FLAG_STREAM,
  resolvePeerLimits,
  type PeerMessage,
  type HelloMessage,
  type PeerDecodeLimits,
  type DigestEntry,
} from './peer-messages.js'

// ---- decoding ---------------------------------------------------------------

type Limits = Readonly<Required<PeerDecodeLimits>>

const bad = (message: string): DecodeError => new DecodeError('bad-value', message)

const readId = (r: SafeReader, field: string): string => {
  const s = r.readVarString(field, PEER_MAX_ID_BYTES)
  if (s.length === 0) throw bad(`${field}: must not be empty`)
  return s
}

const readBatchBody = (r: SafeReader, maxBytes: number): Uint8Array => {
  if (r.remaining > maxBytes) throw new DecodeError('too-large', `batch payload: ${r.remaining} bytes, over the limit of ${maxBytes}`)
  return r.readRest()
}

const readDoc = (r: SafeReader, limits: Limits): string => {
  const s = r.readVarString('doc', limits.maxStringBytes)
  if (s.length === 0) throw bad('doc: must not be empty')
  return s
}

const readTime = (r: SafeReader, field: string): number => {
  const t = r.readFloat64(field)
  if (!Number.isFinite(t)) throw bad(`${field}: not a finite number`)
  return t
}

const readBucket = (r: SafeReader): number => {
  const b = r.readVarUint('bucket')
  if (b >= PEER_DIGEST_BUCKETS) throw bad(`bucket: ${b} is not below the bucket count ${PEER_DIGEST_BUCKETS}`)
  return b
}

/** Rejects a count before allocating for it: each item needs at least `minItemBytes`. */
const readCount = (r: SafeReader, field: string, max: number, minItemBytes: number): number => {
  const n = r.readVarUint(`${field} count`)
  if (n > max) throw new DecodeError('bad-length', `${field}: count ${n} over limit ${max}`)
  if (n * minItemBytes > r.remaining) throw new DecodeError('bad-length', `${field}: count ${n} cannot fit in ${r.remaining} bytes`)
  return n
}

const readHelloRest = (r: SafeReader, version: number): HelloMessage => {
  if (version < 1) throw bad('version: must be a positive integer')
  const relayId = readId(r, 'relayId')
  const region = readId(r, 'region')
  const policyHash = r.readVarString('policyHash', PEER_MAX_POLICY_HASH_BYTES)
  const time = readTime(r, 'time')
  const nonce = r.readVarBytes('nonce', PEER_MAX_NONCE_BYTES)
  if (nonce.length < PEER_MIN_NONCE_BYTES) throw bad(`nonce: ${nonce.length} bytes, need at least ${PEER_MIN_NONCE_BYTES}`)
  const auth = r.readVarBytes('auth', PEER_MAX_HASH_BYTES)
  if (auth.length === 0) throw bad('auth: must not be empty')
  return { type: 'hello', version, relayId, region, policyHash, time, nonce, auth }
}

const readBody = (r: SafeReader, type: number, limits: Limits): PeerMessage => {
  switch (type) {
    case PeerMessageType.Hello:
      return readHelloRest(r, r.readVarUint('version'))
    case PeerMessageType.CatchupRequest:
      return { type: 'catchup-request', sinceSeq: r.readVarUint('sinceSeq') }
    case PeerMessageType.CatchupDone:
      return { type: 'catchup-done', upToSeq: r.readVarUint('upToSeq') }
    case PeerMessageType.SyncStep1: {
      const doc = readDoc(r, limits)
      return { type: 'sync-step1', doc, stateVector: r.readVarBytes('stateVector', limits.maxPayloadBytes) }
    }
    case PeerMessageType.SyncStep2: {
      const doc = readDoc(r, limits)
      const update = r.readVarBytes('update', limits.maxPayloadBytes)
      return { type: 'sync-step2', doc, update, seq: r.readVarUint('seq') }
    }
    case PeerMessageType.Delta: {
      const doc = readDoc(r, limits)
      const update = r.readVarBytes('update', limits.maxPayloadBytes)
      const originRegion = readId(r, 'originRegion')
      const originTime = readTime(r, 'originTime')
      return { type: 'delta', doc, update, originRegion, originTime, seq: r.readVarUint('seq') }
    }
    case PeerMessageType.Ack:
      return { type: 'ack', seq: r.readVarUint('seq') }
    case PeerMessageType.Digest: {
      const n = r.readVarUint('digest count')
      if (n !== PEER_DIGEST_BUCKETS) throw bad(`digest: ${n} buckets, protocol fixes ${PEER_DIGEST_BUCKETS}`)
      const buckets: Uint8Array[] = new Array<Uint8Array>(n)
      for (let i = 0; i < n; i++) buckets[i] = r.readVarBytes('bucket hash', PEER_MAX_HASH_BYTES)
      return { type: 'digest', buckets }
    }
    case PeerMessageType.DigestBucketRequest:
      return { type: 'digest-bucket-request', bucket: readBucket(r) }
    case PeerMessageType.DigestBucket: {
      const bucket = readBucket(r)
      // An entry is at least a 1-byte doc with its length and an empty hash's length.
      const n = readCount(r, 'digest-bucket entries', limits.maxListLength, 3)
      const entries: DigestEntry[] = new Array<DigestEntry>(n)
      for (let i = 0; i < n; i++) {
        const doc = readDoc(r, limits)
        entries[i] = { doc, hash: r.readVarBytes('doc hash', PEER_MAX_HASH_BYTES) }
      }
      return { type: 'digest-bucket', bucket, entries }
    }
    case PeerMessageType.Refused: {
      const doc = readDoc(r, limits)
      return { type: 'refused', doc, reason: r.readVarString('reason', limits.maxStringBytes) }
    }
    case PeerMessageType.Batch: {
      const flags = r.readUint8('batch flags')
      const inStream = (flags & BATCH_FLAG_STREAM) !== 0
      if (!inStream && flags > BATCH_FLAG_COMPRESSED) throw bad(`batch flags: position bits set on a standalone frame (0x${flags.toString(16)})`)
      return {
        type: 'batch',
        compressed: (flags & BATCH_FLAG_COMPRESSED) !== 0,
        stream: inStream ? flags >> 2 : null,
        payload: readBatchBody(r, limits.maxPayloadBytes),
      }
    }
    default:
      throw new DecodeError('unknown-type', `peer message: unknown type ${type}`)
  }
}

/** Decodes one peer message. Throws only DecodeError. Byte fields are views of `bytes`. */
export const decodePeerMessage = (bytes: Uint8Array, limits?: PeerDecodeLimits): PeerMessage => {
  const l = resolvePeerLimits(limits)
  if (bytes.length > l.maxMessageBytes) throw new DecodeError('too-large', `peer message: ${bytes.length} bytes over limit ${l.maxMessageBytes}`)
  const r = new SafeReader(bytes)
  const msg = readBody(r, r.readVarUint('message type'), l)
  r.expectEnd(`peer ${msg.type}`)
  return msg
}

/** Decodes a message that must be a hello (the first frame on a peer link). */
export const decodeHello = (bytes: Uint8Array, limits?: PeerDecodeLimits): HelloMessage => {
  const msg = decodePeerMessage(bytes, limits)
  if (msg.type !== 'hello') throw bad(`peer link: expected hello first, got ${msg.type}`)
  return msg
}

/**
 * Reads only the type and version of a hello, which never move between
 * versions, so a relay can refuse another version with PeerRejected and a
 * clear reason even when the rest of that hello is laid out differently.
 */
export const readHelloVersion = (bytes: Uint8Array): number => {
  const r = new SafeReader(bytes)
  const type = r.readVarUint('message type')
  if (type !== PeerMessageType.Hello) throw bad(`peer link: expected hello first, got type ${type}`)
  const version = r.readVarUint('version')
  if (version < 1) throw bad('version: must be a positive integer')
  return version
}
