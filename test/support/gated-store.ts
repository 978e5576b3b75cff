/**
 * A DocStore wrapper whose loads (per document) and appends (all) can be held
 * at a gate, or whose appends can be made to fail. Holding an operation open
 * is the deterministic way to see what a relay does while its disk is slow,
 * without racing it; failing one shows what it does when the disk breaks.
 */
import * as Y from 'yjs'
import { MemoryDocStore, StorageError, type AppendEntry, type DocStore, type FeedEntry, type StoredDoc } from '@meridian/server'

interface Gate {
  promise: Promise<void>
  release: () => void
}

const newGate = (): Gate => {
  let release!: () => void
  const promise = new Promise<void>((resolve) => (release = resolve))
  return { promise, release }
}

export class GatedStore implements DocStore {
  private readonly loadGates = new Map<string, Gate>()
  private readonly metaGates = new Map<string, Gate>()
  /** Metadata keys whose read is waiting at its gate. */
  readonly waitingMeta = new Set<string>()
  private appendGate: Gate | null = null
  private failAppendsWith: Error | null = null
  private readonly listeners = new Set<() => void>()
  /** Documents whose load is waiting at its gate. */
  readonly waitingLoads = new Set<string>()
  appendsStarted = 0
  appendsWaiting = 0
  compactions = 0

  constructor(readonly inner: DocStore = new MemoryDocStore()) {}

  /** Holds every later load of `doc` until `releaseLoad(doc)`. */
  holdLoad(doc: string): void {
    this.loadGates.set(doc, newGate())
  }

  releaseLoad(doc: string): void {
    this.loadGates.get(doc)?.release()
    this.loadGates.delete(doc)
  }

  /** Holds every later read of metadata `key` (cursors, relay id) until `releaseMeta(key)`. */
  holdMeta(key: string): void {
    this.metaGates.set(key, newGate())
  }

  releaseMeta(key: string): void {
    this.metaGates.get(key)?.release()
    this.metaGates.delete(key)
  }

  /** Holds every append that starts from now on until `releaseAppends()`. */
  holdAppends(): void {
    this.appendGate ??= newGate()
  }

  releaseAppends(): void {
    this.appendGate?.release()
    this.appendGate = null
  }

  /** Every later append fails with a StorageError (a full or broken disk). */
  failWrites(message = 'injected disk failure'): void {
    this.failAppendsWith = new StorageError('storage-failed', message)
  }

  /** Releases every held load and append. */
  releaseAll(): void {
    for (const doc of [...this.loadGates.keys()]) this.releaseLoad(doc)
    for (const key of [...this.metaGates.keys()]) this.releaseMeta(key)
    this.releaseAppends()
  }

  /** Resolves once a load of `doc` is waiting at its gate. */
  reachedLoad(doc: string): Promise<void> {
    return this.until((s) => s.waitingLoads.has(doc))
  }

  /** Resolves when the next append starts (it may then be waiting at the gate). */
  nextAppend(): Promise<void> {
    const started = this.appendsStarted
    return this.until((s) => s.appendsStarted > started)
  }

  /** Resolves once `predicate` holds, re-checked whenever an operation reaches or leaves a gate. */
  until(predicate: (store: this) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!predicate(this)) return
        this.listeners.delete(check)
        resolve()
      }
      this.listeners.add(check)
      check()
    })
  }

  private changed(): void {
    for (const l of [...this.listeners]) l()
  }

  async loadDoc(doc: string): Promise<StoredDoc | null> {
    const gate = this.loadGates.get(doc)
    if (gate) {
      this.waitingLoads.add(doc)
      this.changed()
      await gate.promise
      this.waitingLoads.delete(doc)
      this.changed()
    }
    return this.inner.loadDoc(doc)
  }

  async append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    this.appendsStarted++
    const gate = this.appendGate
    if (gate) {
      this.appendsWaiting++
      this.changed()
      await gate.promise
      this.appendsWaiting--
    }
    this.changed()
    if (this.failAppendsWith) throw this.failAppendsWith
    return this.inner.append(entries)
  }

  /** The document as the store holds it (snapshot and log), or null. */
  async stored(doc: string): Promise<Y.Doc | null> {
    const stored = await this.inner.loadDoc(doc)
    if (!stored) return null
    const ydoc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(ydoc, stored.snapshot)
    for (const u of stored.log) Y.applyUpdate(ydoc, u)
    return ydoc
  }

  get healthy(): boolean {
    return this.inner.healthy
  }
  open(): Promise<void> {
    return this.inner.open()
  }
  close(): Promise<void> {
    this.releaseAll()
    return this.inner.close()
  }
  async compact(doc: string, snapshot: Uint8Array, upToLogId: number): Promise<void> {
    await this.inner.compact(doc, snapshot, upToLogId)
    this.compactions++
    this.changed()
  }
  deleteDoc(doc: string): Promise<void> {
    return this.inner.deleteDoc(doc)
  }
  hasDoc(doc: string): Promise<boolean> {
    return this.inner.hasDoc(doc)
  }
  listDocs(): AsyncIterable<string> {
    return this.inner.listDocs()
  }
  readFeed(afterSeq: number, limit: number): Promise<FeedEntry[]> {
    return this.inner.readFeed(afterSeq, limit)
  }
  lastSeq(): number {
    return this.inner.lastSeq()
  }
  async getMeta(key: string): Promise<Uint8Array | null> {
    const gate = this.metaGates.get(key)
    if (gate) {
      this.waitingMeta.add(key)
      this.changed()
      await gate.promise
      this.waitingMeta.delete(key)
    }
    return this.inner.getMeta(key)
  }
  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.inner.putMeta(key, value)
  }
}
