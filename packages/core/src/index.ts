/**
 * @meridian/core — what relays and clients share: wire codecs, Yjs update
 * helpers, replication policy and document names. Isomorphic (no Node
 * built-ins); imports neither server nor client.
 */
export * from './errors.js'
export * from './close-codes.js'
export { SafeReader, tryDecode, type DecodeResult } from './protocol/reader.js'

// Client wire protocol (y-websocket + Meridian extensions)
export * from './protocol/client-messages.js'
export * from './protocol/awareness-update.js'

// Relay-to-relay protocol v1. Its sync encoders are renamed so they cannot be
// confused with the client protocol's.
export {
  PEER_PROTOCOL_VERSION,
  PeerMessageType,
  PEER_DIGEST_BUCKETS,
  PEER_MAX_ID_BYTES,
  PEER_MAX_POLICY_HASH_BYTES,
  PEER_MAX_HASH_BYTES,
  PEER_MIN_NONCE_BYTES,
  PEER_MAX_NONCE_BYTES,
  BATCH_FLAG_COMPRESSED,
  BATCH_FLAG_STREAM,
  BATCH_STREAM_POSITIONS,
  PEER_LINK_DICTIONARY_BYTES,
  DEFAULT_PEER_LIMITS,
  resolvePeerLimits,
  encodeHello,
  helloSigningBytes,
  encodeCatchupRequest,
  encodeCatchupDone,
  encodeAck,
  encodeSyncStep1 as encodePeerSyncStep1,
  encodeSyncStep2 as encodePeerSyncStep2,
  encodeDelta,
  encodeDigest,
  encodeDigestBucketRequest,
  encodeDigestBucket,
  encodeRefused,
  encodeBatch,
  encodePeerMessage,
  digestBucketOf,
  decodePeerMessage,
  decodeHello,
  readHelloVersion,
  type PeerMessage,
  type PeerMessageKind,
  type PeerMessageOf,
  type HelloMessage,
  type HelloFields,
  type DigestEntry,
  type PeerDecodeLimits,
} from './protocol/peer-messages.js'
export { encodeBatchPayload, decodeBatchPayload, decodeBatchMessages } from './protocol/peer-messages-batch.js'

// Yjs update helpers
export * from './updates/validate.js'
export * from './updates/state-vector.js'
export * from './updates/coalescer.js'

// Replication policy and document names
export { compileGlob, matchGlob, MAX_GLOB_LENGTH, PolicyError, type PolicyErrorCode } from './policy/glob.js'
export * from './policy/policy.js'
export * from './doc-name.js'
