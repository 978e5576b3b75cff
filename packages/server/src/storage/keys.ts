/**
 * Byte layout of the relay's LevelDB (see docs/storage.md): the keys, and the
 * two small records stored under them (document head, counters).
 *
 *   0x00 tag                          system records (format version, counters)
 *   0x01 varint(len) key              metadata value
 *   0x02 varint(len) name 0x00        document head: seq, last log id, compaction floor
 *   0x02 varint(len) name 0x01        document snapshot
 *   0x02 varint(len) name 0x02 id:u64 document log entry (big-endian, so ids sort numerically)
 *   0x03 seq:u64                      change feed entry, value = document name
 *
 * The length prefix is what makes names safe: a varint is self-delimiting, so
 * the prefix of one name can never be a prefix of another's, whatever bytes the
 * names contain. All keys of one document therefore sit in one contiguous range
 * that no other document's key can fall into, and one iterator over that range
 * reads a consistent head + snapshot + log.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { StorageError } from './doc-store.js'

/** Longest document name (and metadata key), in UTF-8 bytes. */
export const MAX_NAME_BYTES = 512

export const NS_SYSTEM = 0x00
export const NS_META = 0x01
export const NS_DOC = 0x02
export const NS_FEED = 0x03

export const PART_HEAD = 0x00
export const PART_SNAPSHOT = 0x01
export const PART_LOG = 0x02

export const SYSTEM_VERSION_KEY = Uint8Array.of(NS_SYSTEM, 0x00)
export const SYSTEM_COUNTERS_KEY = Uint8Array.of(NS_SYSTEM, 0x01)

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
// A lone surrogate would be encoded as U+FFFD, so two different strings could
// share one key; refusing them keeps the name -> key mapping injective.
const LONE_SURROGATE = /\p{Cs}/u

/** UTF-8 bytes of a document name or metadata key; throws 'storage-invalid' if it cannot be stored. */
export function encodeName(name: string): Uint8Array {
  if (typeof name !== 'string') throw new StorageError('storage-invalid', 'name must be a string')
  if (LONE_SURROGATE.test(name)) throw new StorageError('storage-invalid', 'name is not well-formed Unicode')
  const bytes = utf8.encode(name)
  if (bytes.length > MAX_NAME_BYTES) {
    throw new StorageError('storage-invalid', `name is ${bytes.length} bytes; the limit is ${MAX_NAME_BYTES}`)
  }
  return bytes
}

export function decodeName(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes)
  } catch (err) {
    throw new StorageError('storage-corrupt', 'stored name is not valid UTF-8', { cause: err })
  }
}

function varintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

function writeVarint(target: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    target[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 0x80)
  }
  target[offset++] = n
  return offset
}

function readVarint(source: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0
  let scale = 1
  for (let i = offset; i < source.length && i < offset + 3; i++) {
    const byte = source[i]!
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) return { value, next: i + 1 }
    scale *= 0x80
  }
  throw new StorageError('storage-corrupt', 'bad length prefix in key')
}

function writeU64(target: Uint8Array, offset: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new StorageError('storage-invalid', `not a valid id: ${n}`)
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
  view.setUint32(offset, Math.floor(n / 0x1_0000_0000))
  view.setUint32(offset + 4, n >>> 0)
}

function readU64(source: Uint8Array, offset: number): number {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength)
  const value = view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4)
  if (!Number.isSafeInteger(value)) throw new StorageError('storage-corrupt', 'id in key exceeds 2^53')
  return value
}

function prefixed(ns: number, nameBytes: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + varintLength(nameBytes.length) + nameBytes.length)
  key[0] = ns
  key.set(nameBytes, writeVarint(key, 1, nameBytes.length))
  return key
}

/** The bytes every key of one document starts with. Compute once per operation and reuse. */
export const docPrefix = (name: string): Uint8Array => prefixed(NS_DOC, encodeName(name))

/** Same as `docPrefix`, for a name already validated by `encodeName`. */
export const docPrefixOf = (nameBytes: Uint8Array): Uint8Array => prefixed(NS_DOC, nameBytes)

function withSuffix(prefix: Uint8Array, suffix: number, extra = 0): Uint8Array {
  const key = new Uint8Array(prefix.length + 1 + extra)
  key.set(prefix)
  key[prefix.length] = suffix
  return key
}

export const headKey = (prefix: Uint8Array): Uint8Array => withSuffix(prefix, PART_HEAD)
export const snapshotKey = (prefix: Uint8Array): Uint8Array => withSuffix(prefix, PART_SNAPSHOT)

export function logKey(prefix: Uint8Array, logId: number): Uint8Array {
  const key = withSuffix(prefix, PART_LOG, 8)
  writeU64(key, prefix.length + 1, logId)
  return key
}

/** Every key of the document: head, snapshot and log. */
export const docRange = (prefix: Uint8Array): { gte: Uint8Array; lt: Uint8Array } => ({
  gte: withSuffix(prefix, PART_HEAD),
  lt: withSuffix(prefix, PART_LOG + 1),
})

/** Log entries with id in [fromId, toId]. */
export const logRange = (prefix: Uint8Array, fromId: number, toId: number): { gte: Uint8Array; lte: Uint8Array } => ({
  gte: logKey(prefix, fromId),
  lte: logKey(prefix, toId),
})

export type DocKeyPart = { kind: 'head' } | { kind: 'snapshot' } | { kind: 'log'; logId: number }

/** Splits a key from NS_DOC back into its document name and part; throws 'storage-corrupt' otherwise. */
export function decodeDocKey(key: Uint8Array): { doc: string; part: DocKeyPart } {
  if (key[0] !== NS_DOC) throw new StorageError('storage-corrupt', 'not a document key')
  const { value: len, next } = readVarint(key, 1)
  const end = next + len
  if (end >= key.length) throw new StorageError('storage-corrupt', 'document key is truncated')
  const doc = decodeName(key.subarray(next, end))
  const tag = key[end]
  const rest = key.length - end - 1
  if (tag === PART_HEAD && rest === 0) return { doc, part: { kind: 'head' } }
  if (tag === PART_SNAPSHOT && rest === 0) return { doc, part: { kind: 'snapshot' } }
  if (tag === PART_LOG && rest === 8) return { doc, part: { kind: 'log', logId: readU64(key, end + 1) } }
  throw new StorageError('storage-corrupt', 'unknown document key part')
}

/** Log id of a key known to belong to `prefix`'s log range. */
export const logIdOf = (key: Uint8Array, prefix: Uint8Array): number => readU64(key, prefix.length + 1)

export function feedKey(seq: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = NS_FEED
  writeU64(key, 1, seq)
  return key
}

export function decodeFeedKey(key: Uint8Array): number {
  if (key.length !== 9 || key[0] !== NS_FEED) throw new StorageError('storage-corrupt', 'not a feed key')
  return readU64(key, 1)
}

/** Bounds of the whole feed namespace. */
export const FEED_START = Uint8Array.of(NS_FEED)
export const FEED_END = Uint8Array.of(NS_FEED + 1)

export const metaKey = (key: string): Uint8Array => prefixed(NS_META, encodeName(key))

/** Per-document record: its feed seq, its newest log id, and the log id its snapshot covers. */
export interface Head {
  seq: number
  lastLogId: number
  floor: number
}

export function encodeHead(head: Head): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, head.seq)
  encoding.writeVarUint(enc, head.lastLogId)
  encoding.writeVarUint(enc, head.floor)
  return encoding.toUint8Array(enc)
}

export function decodeHead(bytes: Uint8Array): Head {
  try {
    const dec = decoding.createDecoder(bytes)
    const head = { seq: decoding.readVarUint(dec), lastLogId: decoding.readVarUint(dec), floor: decoding.readVarUint(dec) }
    if (decoding.hasContent(dec)) throw new Error('trailing bytes')
    return head
  } catch (err) {
    throw new StorageError('storage-corrupt', 'unreadable document head', { cause: err })
  }
}

export function encodeCounters(seq: number, logId: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, seq)
  encoding.writeVarUint(enc, logId)
  return encoding.toUint8Array(enc)
}

export function decodeCounters(bytes: Uint8Array): { seq: number; logId: number } {
  try {
    const dec = decoding.createDecoder(bytes)
    return { seq: decoding.readVarUint(dec), logId: decoding.readVarUint(dec) }
  } catch (err) {
    throw new StorageError('storage-corrupt', 'unreadable counters record', { cause: err })
  }
}
