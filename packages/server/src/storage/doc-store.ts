/**
 * The relay's storage contract. Two implementations (LevelDB and in-memory)
 * pass one conformance suite, so anything written against this interface
 * behaves the same on either.
 */
import { MeridianError } from '@meridian/core'

export type StorageErrorCode =
  | 'storage-failed' // an I/O operation failed, or the store is unhealthy after an earlier failure
  | 'storage-closed' // the store (or committer) is not open
  | 'storage-corrupt' // bytes on disk do not decode as this format wrote them
  | 'storage-incompatible' // the data directory was written by an unknown format version
  | 'storage-invalid' // the caller passed an argument the store cannot accept

export class StorageError extends MeridianError {
  declare readonly code: StorageErrorCode
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'StorageError'
  }
}

export const isStorageError = (err: unknown): err is StorageError => err instanceof StorageError

/** Wraps anything thrown by a backend so callers only ever branch on StorageError codes. */
export function toStorageError(err: unknown, code: StorageErrorCode, message: string): StorageError {
  if (err instanceof StorageError) return err
  return new StorageError(code, message, { cause: err })
}

export interface StoredDoc {
  snapshot: Uint8Array | null
  log: Uint8Array[]
  /** Sum of the byte lengths of `log`, so callers can decide on compaction without summing. */
  logBytes: number
  /** Id of the last log entry, 0 if none. Pass it to `compact` as `upToLogId`. */
  lastLogId: number
  /** Feed seq of the last change, 0 if none. */
  seq: number
}

export interface AppendEntry {
  doc: string
  update: Uint8Array
}

export interface FeedEntry {
  seq: number
  doc: string
}

/**
 * 'fsync': every batch is synced to the disk before it resolves; survives power loss.
 * 'buffered': a batch resolves once it is in the OS page cache; survives a crash of the
 * process, not of the machine, and is several times faster per batch.
 */
export type Durability = 'fsync' | 'buffered'

export interface DocStore {
  open(): Promise<void>
  /** Waits for writes already started, then releases the store. Idempotent. */
  close(): Promise<void>
  /**
   * One atomic, durable batch: appends each update to its document's log and
   * moves each touched document to a fresh feed seq. Resolves with the seq given
   * to each document once the batch is durable (per the durability option).
   */
  append(entries: readonly AppendEntry[]): Promise<Map<string, number>>
  loadDoc(doc: string): Promise<StoredDoc | null>
  /**
   * Atomically writes the snapshot and deletes log entries with id <= upToLogId.
   * Entries appended after upToLogId are kept. A compaction older than one
   * already applied, or of a document deleted since it was loaded, is ignored.
   */
  compact(doc: string, snapshot: Uint8Array, upToLogId: number): Promise<void>
  /** Removes the snapshot, the log and the feed entry. No-op for an unknown document. */
  deleteDoc(doc: string): Promise<void>
  hasDoc(doc: string): Promise<boolean>
  listDocs(): AsyncIterable<string>
  /** Documents whose latest change has seq > afterSeq, ascending by seq, at most `limit`. */
  readFeed(afterSeq: number, limit: number): Promise<FeedEntry[]>
  /** Highest seq assigned so far (restored on open). */
  lastSeq(): number
  getMeta(key: string): Promise<Uint8Array | null>
  putMeta(key: string, value: Uint8Array): Promise<void>
  /** False after any write failure; the relay stops acknowledging. */
  readonly healthy: boolean
}
