/**
 * Local storage of one document's updates, so that edits survive a reload or
 * restart while offline. Implementations: IndexedDbPersistence (browsers) and
 * FilePersistence (`@meridian/client/node`). Writes are issued one at a time
 * by the provider, in order.
 */
export interface LocalPersistence {
  /** Every stored update, in any order (Yjs merges them regardless). */
  load(): Promise<Uint8Array[]>
  /** Stores one more update; resolves once it is written. */
  append(update: Uint8Array): Promise<void>
  /** Atomically replaces everything stored with one update that contains it all. */
  compact(state: Uint8Array): Promise<void>
  /** Releases handles; idempotent. Stored data stays. */
  close(): Promise<void>
}
