/**
 * DocStore on one LevelDB per relay. Layout and guarantees: docs/storage.md.
 *
 * Writes go through one queue: seq and log-id assignment read the touched
 * documents' heads from LevelDB right before building the batch, so nothing
 * per document stays on the heap between operations. Reads skip the queue and
 * get their consistency from LevelDB iterators, which read from a snapshot.
 */
import { ClassicLevel } from 'classic-level'
import {
  StorageError,
  toStorageError,
  type AppendEntry,
  type DocStore,
  type Durability,
  type FeedEntry,
  type StoredDoc,
} from './doc-store.js'
import * as K from './keys.js'

const FORMAT_VERSION = 1

export interface LevelDocStoreOptions {
  /** Default 'fsync': an acknowledged update survives power loss. */
  durability?: Durability
}

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

type Db = ClassicLevel<Uint8Array, Uint8Array>

const levelCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined

function fromLevel(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err
  switch (levelCode(err)) {
    case 'LEVEL_DATABASE_NOT_OPEN':
    case 'LEVEL_ITERATOR_NOT_OPEN':
      return new StorageError('storage-closed', `${what}: the store is closed`, { cause: err })
    case 'LEVEL_CORRUPTION':
      return new StorageError('storage-corrupt', `${what}: LevelDB reports corruption`, { cause: err })
    default:
      return toStorageError(err, 'storage-failed', `${what} failed`)
  }
}

/** LevelDB hands back Buffers; callers get plain views of the same memory, as from the memory store. */
const plain = (b: Uint8Array): Uint8Array =>
  b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new StorageError('storage-invalid', `${what} must be a non-negative integer`)
}

export class LevelDocStore implements DocStore {
  private readonly sync: boolean
  private db: Db | null = null
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new'
  private opening: Promise<void> | null = null
  private closing: Promise<void> | null = null
  private writeTail: Promise<unknown> = Promise.resolve()
  private readonly reads = new Set<Promise<unknown>>()
  private failed = false
  /** Numbers handed out; may run ahead of `committedSeq` while a batch is in flight. */
  private nextSeq = 0
  private nextLogId = 0
  /** Highest seq a reader can see, so a cursor taken from it never skips an in-flight batch. */
  private committedSeq = 0

  constructor(
    readonly location: string,
    options: LevelDocStoreOptions = {},
  ) {
    this.sync = (options.durability ?? 'fsync') === 'fsync'
  }

  get healthy(): boolean {
    return this.state === 'open' && !this.failed
  }

  open(): Promise<void> {
    if (this.state === 'open') return Promise.resolve()
    if (this.state === 'opening' && this.opening) return this.opening
    if (this.state === 'closing') return Promise.reject(new StorageError('storage-closed', 'the store is closing'))
    this.state = 'opening'
    this.opening = this.doOpen().then(
      () => {
        this.state = 'open'
      },
      (err: unknown) => {
        this.state = 'closed'
        throw err
      },
    )
    return this.opening
  }

  private async doOpen(): Promise<void> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(this.location, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      // LevelDB reports why it did not open (locked, corrupt, I/O) in `cause`.
      const reason = err instanceof Error && err.cause !== undefined ? err.cause : err
      const code = levelCode(reason) === 'LEVEL_CORRUPTION' ? 'storage-corrupt' : 'storage-failed'
      throw new StorageError(code, `cannot open ${this.location}: ${String(reason)}`, { cause: err })
    }
    try {
      const version = await db.get(K.SYSTEM_VERSION_KEY)
      if (version === undefined) {
        await db.put(K.SYSTEM_VERSION_KEY, Uint8Array.of(FORMAT_VERSION), { sync: true })
      } else if (version.length !== 1 || version[0] !== FORMAT_VERSION) {
        throw new StorageError('storage-incompatible', `${this.location} holds an unknown storage format version`)
      }
      const counters = await db.get(K.SYSTEM_COUNTERS_KEY)
      const { seq, logId } = counters ? K.decodeCounters(counters) : { seq: 0, logId: 0 }
      this.nextSeq = this.committedSeq = seq
      this.nextLogId = logId
    } catch (err) {
      await db.close().catch(() => undefined)
      throw fromLevel(err, `opening ${this.location}`)
    }
    this.db = db
    this.failed = false
    this.writeTail = Promise.resolve()
  }

  close(): Promise<void> {
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed'
      return Promise.resolve()
    }
    if (this.state === 'closing' && this.closing) return this.closing
    const opening = this.opening
    this.state = 'closing'
    this.closing = (async () => {
      await opening?.catch(() => undefined)
      await this.writeTail
      await Promise.allSettled([...this.reads])
      const db = this.db
      this.db = null
      await db?.close().catch(() => undefined)
      this.state = 'closed'
      this.closing = null
    })()
    return this.closing
  }

  lastSeq(): number {
    return this.committedSeq
  }

  private openDb(): Db {
    if (this.state !== 'open' || !this.db) throw new StorageError('storage-closed', 'the store is not open')
    return this.db
  }

  /** Runs a read, and makes `close` wait for it so it never sees a half-closed database. */
  private read<T>(what: string, fn: (db: Db) => Promise<T>): Promise<T> {
    let db: Db
    try {
      db = this.openDb()
    } catch (err) {
      return Promise.reject(err)
    }
    const run = fn(db).catch((err: unknown) => {
      throw fromLevel(err, what)
    })
    this.reads.add(run)
    const forget = (): void => {
      this.reads.delete(run)
    }
    run.then(forget, forget)
    return run
  }

  /** Queues a write behind every earlier one. Any failure but a bad argument marks the store unhealthy. */
  private write<T>(what: string, fn: (db: Db) => Promise<T>): Promise<T> {
    let db: Db
    try {
      db = this.openDb()
    } catch (err) {
      return Promise.reject(err)
    }
    const run = this.writeTail.then(async () => {
      // Fail-stop: after a failed write the on-disk state is uncertain, so
      // nothing more is acknowledged until the relay restarts and reopens.
      if (this.failed) throw new StorageError('storage-failed', `${what}: the store is unhealthy after an earlier write failure`)
      try {
        return await fn(db)
      } catch (err) {
        if (err instanceof StorageError && err.code === 'storage-invalid') throw err
        this.failed = true
        throw fromLevel(err, what)
      }
    })
    this.writeTail = run.catch(() => undefined)
    return run
  }

  /** The single place a batch reaches LevelDB; tests override it to inject write failures. */
  protected async commit(db: Db, ops: BatchOp[]): Promise<void> {
    // A chained batch skips the per-operation option cloning of array batches,
    // which dominated the cost of a group commit.
    const batch = db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value)
        else batch.del(op.key)
      }
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write({ sync: this.sync })
  }

  append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    return this.write('append', async (db) => {
      const groups = new Map<string, { name: Uint8Array; updates: Uint8Array[] }>()
      for (const { doc, update } of entries) {
        if (!(update instanceof Uint8Array) || update.length === 0) {
          throw new StorageError('storage-invalid', `update for ${JSON.stringify(doc)} is empty or not bytes`)
        }
        let group = groups.get(doc)
        if (!group) groups.set(doc, (group = { name: K.encodeName(doc), updates: [] }))
        group.updates.push(update)
      }
      const seqs = new Map<string, number>()
      if (groups.size === 0) return seqs
      const docs = [...groups.entries()].map(([doc, g]) => ({ doc, ...g, prefix: K.docPrefixOf(g.name) }))
      const heads = await db.getMany(docs.map((d) => K.headKey(d.prefix)))
      const ops: BatchOp[] = []
      let seq = this.nextSeq
      let logId = this.nextLogId
      docs.forEach((d, i) => {
        const raw = heads[i]
        const old = raw ? K.decodeHead(raw) : null
        seq++
        // Each document keeps exactly one feed entry, at its newest seq.
        if (old) ops.push({ type: 'del', key: K.feedKey(old.seq) })
        ops.push({ type: 'put', key: K.feedKey(seq), value: d.name })
        const floor = old ? old.floor : logId
        for (const update of d.updates) ops.push({ type: 'put', key: K.logKey(d.prefix, ++logId), value: update })
        ops.push({ type: 'put', key: K.headKey(d.prefix), value: K.encodeHead({ seq, lastLogId: logId, floor }) })
        seqs.set(d.doc, seq)
      })
      ops.push({ type: 'put', key: K.SYSTEM_COUNTERS_KEY, value: K.encodeCounters(seq, logId) })
      // Advanced before the write: a batch whose outcome is unknown must never
      // have its numbers handed out again.
      this.nextSeq = seq
      this.nextLogId = logId
      await this.commit(db, ops)
      this.committedSeq = seq
      return seqs
    })
  }

  loadDoc(doc: string): Promise<StoredDoc | null> {
    return this.read('loadDoc', async (db) => {
      const prefix = K.docPrefix(doc)
      // One iterator = one LevelDB snapshot, so a compaction racing this load
      // can never hand us an old snapshot with an already-trimmed log.
      const rows = await db.iterator(K.docRange(prefix)).all()
      let head: K.Head | null = null
      let snapshot: Uint8Array | null = null
      const log: Uint8Array[] = []
      let logBytes = 0
      let lastLogId = 0
      for (const [key, value] of rows) {
        const part = key[prefix.length]
        if (part === K.PART_HEAD) head = K.decodeHead(value)
        else if (part === K.PART_SNAPSHOT) snapshot = plain(value)
        else if (part === K.PART_LOG) {
          log.push(plain(value))
          logBytes += value.length
          lastLogId = K.logIdOf(key, prefix)
        }
      }
      if (!head) {
        if (rows.length > 0) throw new StorageError('storage-corrupt', `document ${JSON.stringify(doc)} has data but no head`)
        return null
      }
      return { snapshot, log, logBytes, lastLogId, seq: head.seq }
    })
  }

  compact(doc: string, snapshot: Uint8Array, upToLogId: number): Promise<void> {
    return this.write('compact', async (db) => {
      const prefix = K.docPrefix(doc)
      checkCount(upToLogId, 'upToLogId')
      if (!(snapshot instanceof Uint8Array)) throw new StorageError('storage-invalid', 'snapshot must be bytes')
      const raw = await db.get(K.headKey(prefix))
      if (!raw) return
      const head = K.decodeHead(raw)
      if (upToLogId > head.lastLogId) {
        throw new StorageError('storage-invalid', `upToLogId ${upToLogId} is past the last log entry ${head.lastLogId}`)
      }
      // A snapshot taken before an earlier compaction, or before the document
      // was deleted and recreated, knows less than what is stored now.
      if (upToLogId <= head.floor) return
      const trimmed = await db.keys(K.logRange(prefix, 0, upToLogId)).all()
      const ops: BatchOp[] = [{ type: 'put', key: K.snapshotKey(prefix), value: snapshot }]
      for (const key of trimmed) ops.push({ type: 'del', key })
      ops.push({ type: 'put', key: K.headKey(prefix), value: K.encodeHead({ ...head, floor: upToLogId }) })
      await this.commit(db, ops)
    })
  }

  deleteDoc(doc: string): Promise<void> {
    return this.write('deleteDoc', async (db) => {
      const prefix = K.docPrefix(doc)
      const raw = await db.get(K.headKey(prefix))
      if (!raw) return
      const head = K.decodeHead(raw)
      const keys = await db.keys(K.docRange(prefix)).all()
      const ops: BatchOp[] = keys.map((key) => ({ type: 'del', key }))
      ops.push({ type: 'del', key: K.feedKey(head.seq) })
      await this.commit(db, ops)
    })
  }

  hasDoc(doc: string): Promise<boolean> {
    return this.read('hasDoc', async (db) => (await db.get(K.headKey(K.docPrefix(doc)))) !== undefined)
  }

  /** Walks the feed rather than the document range: one row per document, however long its log. */
  async *listDocs(): AsyncIterable<string> {
    const db = this.openDb()
    const names = db.values({ gte: K.FEED_START, lt: K.FEED_END })
    try {
      for (;;) {
        const chunk = await names.nextv(256)
        if (chunk.length === 0) return
        for (const name of chunk) yield K.decodeName(name)
      }
    } catch (err) {
      throw fromLevel(err, 'listDocs')
    } finally {
      await names.close().catch(() => undefined)
    }
  }

  readFeed(afterSeq: number, limit: number): Promise<FeedEntry[]> {
    return this.read('readFeed', async (db) => {
      checkCount(afterSeq, 'afterSeq')
      checkCount(limit, 'limit')
      if (limit === 0) return []
      // LevelDB takes a 32-bit limit, where -1 means none.
      const rows = await db.iterator({ gt: K.feedKey(afterSeq), lt: K.FEED_END, limit: limit > 0x7fff_ffff ? -1 : limit }).all()
      return rows.map(([key, value]) => ({ seq: K.decodeFeedKey(key), doc: K.decodeName(value) }))
    })
  }

  getMeta(key: string): Promise<Uint8Array | null> {
    return this.read('getMeta', async (db) => {
      const value = await db.get(K.metaKey(key))
      return value === undefined ? null : plain(value)
    })
  }

  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.write('putMeta', async (db) => {
      const k = K.metaKey(key)
      if (!(value instanceof Uint8Array)) throw new StorageError('storage-invalid', 'metadata value must be bytes')
      await this.commit(db, [{ type: 'put', key: k, value }])
    })
  }
}
