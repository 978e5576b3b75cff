import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AppendEntry, DocStore, FeedEntry, StorageError, StoredDoc } from '../../src/storage/doc-store.js'
import { GroupCommitter } from '../../src/storage/group-commit.js'
import { MemoryDocStore } from '../../src/storage/memory-store.js'

/** Delegates to a MemoryDocStore, recording each append and optionally holding it until released. */
class RecordingStore implements DocStore {
  readonly inner = new MemoryDocStore()
  readonly appends: AppendEntry[][] = []
  private gate: Promise<void> | null = null
  private release: (() => void) | null = null
  private started: (() => void) | null = null

  get healthy(): boolean {
    return this.inner.healthy
  }
  /** Holds the next appends until `open()` of the returned gate; resolves `entered` when one arrives. */
  hold(): { entered: Promise<void>; open: () => void } {
    this.gate = new Promise((resolve) => (this.release = resolve))
    const entered = new Promise<void>((resolve) => (this.started = resolve))
    return {
      entered,
      open: () => {
        this.gate = null
        this.release?.()
      },
    }
  }
  async append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    this.appends.push([...entries])
    this.started?.()
    if (this.gate) await this.gate
    return this.inner.append(entries)
  }
  open = (): Promise<void> => this.inner.open()
  close = (): Promise<void> => this.inner.close()
  loadDoc = (doc: string): Promise<StoredDoc | null> => this.inner.loadDoc(doc)
  compact = (doc: string, s: Uint8Array, upTo: number): Promise<void> => this.inner.compact(doc, s, upTo)
  deleteDoc = (doc: string): Promise<void> => this.inner.deleteDoc(doc)
  hasDoc = (doc: string): Promise<boolean> => this.inner.hasDoc(doc)
  listDocs = (): AsyncIterable<string> => this.inner.listDocs()
  readFeed = (after: number, limit: number): Promise<FeedEntry[]> => this.inner.readFeed(after, limit)
  lastSeq = (): number => this.inner.lastSeq()
  getMeta = (key: string): Promise<Uint8Array | null> => this.inner.getMeta(key)
  putMeta = (key: string, value: Uint8Array): Promise<void> => this.inner.putMeta(key, value)
}

const u = (n: number): Uint8Array => Uint8Array.of(n)

describe('GroupCommitter', () => {
  let store: RecordingStore
  let committer: GroupCommitter

  beforeEach(async () => {
    store = new RecordingStore()
    await store.open()
    committer = new GroupCommitter(store)
  })
  afterEach(async () => {
    await committer.close()
    await store.close()
  })

  it('writes every update of one event-loop turn in exactly one append', async () => {
    const docs = ['a', 'b', 'a', 'c', 'b', 'a']
    const results = docs.map((doc, i) => committer.enqueue(doc, u(i + 1)))
    expect(committer.pending).toBe(6)
    const seqs = await Promise.all(results)
    expect(store.appends).toHaveLength(1)
    expect(store.appends[0]?.map((e) => e.doc)).toEqual(docs)
    // Every waiter of one document gets that document's seq.
    expect(seqs[0]).toBe(seqs[2])
    expect(seqs[0]).toBe(seqs[5])
    expect(new Set(seqs).size).toBe(3)
    expect((await store.loadDoc('a'))?.log).toEqual([u(1), u(3), u(6)])
    expect(committer.pending).toBe(0)
  })

  it('puts everything that arrives during a write into the next single append', async () => {
    const gate = store.hold()
    const first = [committer.enqueue('a', u(1)), committer.enqueue('b', u(2))]
    await gate.entered
    const second = [1, 2, 3, 4, 5].map((i) => committer.enqueue(i % 2 ? 'a' : 'c', u(10 + i)))
    expect(committer.pending).toBe(7)
    gate.open()
    await Promise.all([...first, ...second])
    expect(store.appends.map((b) => b.length)).toEqual([2, 5])
    expect((await store.loadDoc('a'))?.log).toEqual([u(1), u(11), u(13), u(15)])
  })

  it('splits a long queue into batches of at most maxBatchEntries, in order', async () => {
    const small = new GroupCommitter(store, { maxBatchEntries: 4 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => small.enqueue('d', u(i))))
    expect(store.appends.map((b) => b.length)).toEqual([4, 4, 2])
    expect((await store.loadDoc('d'))?.log).toEqual(Array.from({ length: 10 }, (_, i) => u(i)))
    await small.close()
    expect(() => new GroupCommitter(store, { maxBatchEntries: 0 })).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
  })

  it('flush resolves once everything queued so far is durable', async () => {
    void committer.enqueue('a', u(1))
    void committer.enqueue('b', u(2))
    await committer.flush()
    expect(await store.hasDoc('a')).toBe(true)
    expect(await store.hasDoc('b')).toBe(true)
    await committer.flush()
    expect(store.appends).toHaveLength(1)
  })

  it('rejects every waiter of a failed batch, reports once, and stops acknowledging', async () => {
    const errors: StorageError[] = []
    const failing = new GroupCommitter(store, { onError: (err) => errors.push(err) })
    const gate = store.hold()
    const batch = ['a', 'b', 'a'].map((doc, i) => failing.enqueue(doc, u(i + 1)))
    await gate.entered
    const queuedDuringWrite = failing.enqueue('c', u(9))
    store.inner.failWrites()
    gate.open()
    const settled = await Promise.allSettled([...batch, queuedDuringWrite])
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected'])
    for (const s of settled) expect(s.status === 'rejected' && (s.reason as StorageError).code).toBe('storage-failed')
    expect(errors).toHaveLength(1)
    expect(failing.healthy).toBe(false)
    expect(store.healthy).toBe(false)
    await expect(failing.enqueue('d', u(1))).rejects.toMatchObject({ code: 'storage-failed' })
    await expect(failing.flush()).rejects.toMatchObject({ code: 'storage-failed' })
    expect(store.appends).toHaveLength(1)
    expect(await store.hasDoc('a')).toBe(false)
    await failing.close()
  })

  it('refuses a bad entry alone, without failing the others', async () => {
    const good = committer.enqueue('ok', u(1))
    await expect(committer.enqueue('x'.repeat(600), u(1))).rejects.toMatchObject({ code: 'storage-invalid' })
    await expect(committer.enqueue('ok', new Uint8Array())).rejects.toMatchObject({ code: 'storage-invalid' })
    await expect(good).resolves.toBeGreaterThan(0)
    expect(committer.healthy).toBe(true)
  })

  it('close flushes, is idempotent, and refuses later updates', async () => {
    const queued = committer.enqueue('a', u(1))
    const closing = committer.close()
    await expect(queued).resolves.toBeGreaterThan(0)
    await closing
    await committer.close()
    expect(committer.pending).toBe(0)
    await expect(committer.enqueue('a', u(2))).rejects.toMatchObject({ code: 'storage-closed' })
    expect((await store.loadDoc('a'))?.log).toEqual([u(1)])
  })
})
