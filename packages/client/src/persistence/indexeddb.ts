/**
 * LocalPersistence on IndexedDB: one database per document, one object store
 * of updates under auto-increment keys. Compaction reads, merges, clears and
 * rewrites in one transaction, so a reload in the middle sees either all old
 * entries or the merged one, and another tab's entries survive it.
 */
import * as Y from 'yjs'
import type { LocalPersistence } from './types.js'
import { ClientError } from '../errors.js'

const STORE = 'updates'
const VERSION = 1

export interface IndexedDbPersistenceOptions {
  /** Defaults to the global indexedDB. */
  indexedDB?: IDBFactory
  /** Database name prefix; the document name follows it. */
  prefix?: string
}

const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })

const result = <T>(request: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'))
  })

export class IndexedDbPersistence implements LocalPersistence {
  readonly databaseName: string
  private readonly factory: IDBFactory
  private db: Promise<IDBDatabase> | null = null
  private closed = false

  constructor(docName: string, options: IndexedDbPersistenceOptions = {}) {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
    if (!factory) throw new ClientError('persistence-failed', 'IndexedDB is not available here')
    this.factory = factory
    this.databaseName = `${options.prefix ?? 'meridian:'}${docName}`
  }

  /** True where a global IndexedDB exists. */
  static available(): boolean {
    return typeof (globalThis as { indexedDB?: unknown }).indexedDB !== 'undefined'
  }

  private open(): Promise<IDBDatabase> {
    if (this.closed) return Promise.reject(new ClientError('persistence-failed', 'the IndexedDB store is closed'))
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = this.factory.open(this.databaseName, VERSION)
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { autoIncrement: true })
      }
      request.onsuccess = () => {
        const db = request.result
        // Another tab upgrading or deleting the database must not be blocked by us.
        db.onversionchange = () => db.close()
        resolve(db)
      }
      request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'))
      request.onblocked = () => reject(new ClientError('persistence-failed', `IndexedDB ${this.databaseName} is blocked by another connection`))
    })
    return this.db
  }

  async load(): Promise<Uint8Array[]> {
    const db = await this.open()
    const tx = db.transaction(STORE, 'readonly')
    const values = await result(tx.objectStore(STORE).getAll())
    return values.filter((v): v is Uint8Array => v instanceof Uint8Array)
  }

  async append(update: Uint8Array): Promise<void> {
    const db = await this.open()
    const tx = db.transaction(STORE, 'readwrite')
    tx.objectStore(STORE).add(update)
    await done(tx)
  }

  /**
   * Another tab on the same document appends to the same store, and this
   * tab's state need not hold what it wrote: the entries are read and merged
   * with `state` inside the transaction that replaces them, so none that
   * exists when the rewrite happens is lost. (Readwrite transactions on one
   * store do not interleave.)
   */
  async compact(state: Uint8Array): Promise<void> {
    const db = await this.open()
    const tx = db.transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    const finished = done(tx)
    let failure: unknown = null
    const read = store.getAll()
    read.onsuccess = () => {
      const stored = (read.result as unknown[]).filter((v): v is Uint8Array => v instanceof Uint8Array)
      try {
        const merged = stored.length === 0 ? state : Y.mergeUpdates([...stored, state])
        store.clear()
        store.add(merged)
      } catch (err) {
        // An entry that is not a Yjs update: keep everything as it is.
        failure = err
        tx.abort()
      }
    }
    try {
      await finished
    } catch (err) {
      throw failure ?? err
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const db = this.db
    this.db = null
    if (db) (await db.catch(() => null))?.close()
  }

  /** Deletes the stored document (for "log out" or tests). */
  static async destroy(docName: string, options: IndexedDbPersistenceOptions = {}): Promise<void> {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
    if (!factory) return
    await result(factory.deleteDatabase(`${options.prefix ?? 'meridian:'}${docName}`))
  }
}
