/**
 * DocStore held in memory: for tests, and for relays that do not need to
 * survive a restart. It passes the same conformance suite as the LevelDB store,
 * including the validation rules, so code tested against it behaves the same
 * in production. Every operation mutates state synchronously, which makes
 * each one atomic without a write queue.
 */
import { StorageError, type AppendEntry, type DocStore, type FeedEntry, type StoredDoc } from './doc-store.js'
import { encodeName } from './keys.js'

interface MemDoc {
  seq: number
  lastLogId: number
  /** Log id the snapshot covers; same role as the LevelDB head's floor. */
  floor: number
  snapshot: Uint8Array | null
  log: Array<{ id: number; update: Uint8Array }>
}

/**
 * The "disk" of a MemoryDocStore. Hand the same volume to a new store to
 * simulate a relay restart.
 */
export class MemoryVolume {
  readonly docs = new Map<string, MemDoc>()
  readonly meta = new Map<string, Uint8Array>()
  /** seq -> document; insertion order is ascending seq because seqs only grow. */
  readonly feed = new Map<number, string>()
  /** Ascending seqs, possibly stale (moved or deleted), for binary search in readFeed. */
  feedIndex: number[] = []
  seq = 0
  logId = 0
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new StorageError('storage-invalid', `${what} must be a non-negative integer`)
}

export class MemoryDocStore implements DocStore {
  readonly volume: MemoryVolume
  private state: 'new' | 'open' | 'closed' = 'new'
  private failed = false
  private failure: Error | null = null

  constructor(options: { volume?: MemoryVolume } = {}) {
    this.volume = options.volume ?? new MemoryVolume()
  }

  get healthy(): boolean {
    return this.state === 'open' && !this.failed
  }

  /** Makes every later write fail as a broken disk would (null to stop); for tests of callers. */
  failWrites(err: Error | null = new Error('injected write failure')): void {
    this.failure = err
  }

  async open(): Promise<void> {
    if (this.state === 'open') return
    this.state = 'open'
    this.failed = false
  }

  async close(): Promise<void> {
    this.state = 'closed'
  }

  lastSeq(): number {
    return this.volume.seq
  }

  private requireOpen(): void {
    if (this.state !== 'open') throw new StorageError('storage-closed', 'the store is not open')
  }

  /** Same fail-stop rule as the LevelDB store: no write at all after a failed one. */
  private requireWritable(what: string): void {
    this.requireOpen()
    if (this.failed) throw new StorageError('storage-failed', `${what}: the store is unhealthy after an earlier write failure`)
  }

  /** The point where a disk write would happen, and where an injected failure strikes. */
  private beginWrite(what: string): void {
    if (this.failure) {
      this.failed = true
      throw new StorageError('storage-failed', `${what} failed`, { cause: this.failure })
    }
  }

  async append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    this.requireOpen()
    const groups = new Map<string, Uint8Array[]>()
    for (const { doc, update } of entries) {
      if (!(update instanceof Uint8Array) || update.length === 0) {
        throw new StorageError('storage-invalid', `update for ${JSON.stringify(doc)} is empty or not bytes`)
      }
      encodeName(doc)
      const list = groups.get(doc)
      if (list) list.push(update.slice())
      else groups.set(doc, [update.slice()])
    }
    const seqs = new Map<string, number>()
    if (groups.size === 0) return seqs
    this.requireWritable('append')
    this.beginWrite('append')
    const v = this.volume
    for (const [name, updates] of groups) {
      const seq = ++v.seq
      let doc = v.docs.get(name)
      if (doc) v.feed.delete(doc.seq)
      else v.docs.set(name, (doc = { seq, lastLogId: v.logId, floor: v.logId, snapshot: null, log: [] }))
      for (const update of updates) doc.log.push({ id: ++v.logId, update })
      doc.seq = seq
      doc.lastLogId = v.logId
      v.feed.set(seq, name)
      v.feedIndex.push(seq)
      seqs.set(name, seq)
    }
    this.pruneFeedIndex()
    return seqs
  }

  /** Keeps the stale part of feedIndex below half, so it stays proportional to the number of documents. */
  private pruneFeedIndex(): void {
    const v = this.volume
    if (v.feedIndex.length > 2 * v.feed.size + 16) v.feedIndex = [...v.feed.keys()]
  }

  async loadDoc(name: string): Promise<StoredDoc | null> {
    this.requireOpen()
    encodeName(name)
    const doc = this.volume.docs.get(name)
    if (!doc) return null
    const log = doc.log.map((e) => e.update.slice())
    return {
      snapshot: doc.snapshot ? doc.snapshot.slice() : null,
      log,
      logBytes: log.reduce((sum, u) => sum + u.length, 0),
      lastLogId: doc.log.at(-1)?.id ?? 0,
      seq: doc.seq,
    }
  }

  async compact(name: string, snapshot: Uint8Array, upToLogId: number): Promise<void> {
    this.requireWritable('compact')
    encodeName(name)
    checkCount(upToLogId, 'upToLogId')
    if (!(snapshot instanceof Uint8Array)) throw new StorageError('storage-invalid', 'snapshot must be bytes')
    const doc = this.volume.docs.get(name)
    if (!doc) return
    if (upToLogId > doc.lastLogId) {
      throw new StorageError('storage-invalid', `upToLogId ${upToLogId} is past the last log entry ${doc.lastLogId}`)
    }
    if (upToLogId <= doc.floor) return
    this.beginWrite('compact')
    doc.snapshot = snapshot.slice()
    doc.log = doc.log.filter((e) => e.id > upToLogId)
    doc.floor = upToLogId
  }

  async deleteDoc(name: string): Promise<void> {
    this.requireWritable('deleteDoc')
    encodeName(name)
    const doc = this.volume.docs.get(name)
    if (!doc) return
    this.beginWrite('deleteDoc')
    this.volume.docs.delete(name)
    this.volume.feed.delete(doc.seq)
    this.pruneFeedIndex()
  }

  async hasDoc(name: string): Promise<boolean> {
    this.requireOpen()
    encodeName(name)
    return this.volume.docs.has(name)
  }

  async *listDocs(): AsyncIterable<string> {
    this.requireOpen()
    // A copy, so a caller that writes while iterating sees a stable listing.
    const names = [...this.volume.feed.values()]
    for (const name of names) yield name
  }

  async readFeed(afterSeq: number, limit: number): Promise<FeedEntry[]> {
    this.requireOpen()
    checkCount(afterSeq, 'afterSeq')
    checkCount(limit, 'limit')
    const { feed, feedIndex } = this.volume
    let lo = 0
    let hi = feedIndex.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (feedIndex[mid]! <= afterSeq) lo = mid + 1
      else hi = mid
    }
    const out: FeedEntry[] = []
    for (let i = lo; i < feedIndex.length && out.length < limit; i++) {
      const seq = feedIndex[i]!
      const doc = feed.get(seq)
      if (doc !== undefined) out.push({ seq, doc })
    }
    return out
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    this.requireOpen()
    encodeName(key)
    return this.volume.meta.get(key)?.slice() ?? null
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    this.requireWritable('putMeta')
    encodeName(key)
    if (!(value instanceof Uint8Array)) throw new StorageError('storage-invalid', 'metadata value must be bytes')
    this.beginWrite('putMeta')
    this.volume.meta.set(key, value.slice())
  }
}
