/**
 * A DocStore that holds `loadDoc` for chosen documents until released. The
 * relay buffers what a client sends until its document is loaded; holding the
 * load open is the only deterministic way to test that buffer's cap
 * (`maxPreAuthBytes`) without racing the relay.
 */
import type { AppendEntry, DocStore, FeedEntry, StoredDoc } from '@meridian/server'

export class GatedStore implements DocStore {
  private readonly gates = new Map<string, { promise: Promise<void>; release: () => void }>()
  /** Documents whose load is waiting, for tests to know the relay reached the gate. */
  readonly waiting = new Set<string>()
  private onWaiting: (() => void) | null = null

  constructor(private readonly inner: DocStore) {}

  /** Holds every later load of `doc` until `release(doc)`. */
  hold(doc: string): void {
    let release!: () => void
    const promise = new Promise<void>((resolve) => (release = resolve))
    this.gates.set(doc, { promise, release })
  }

  release(doc: string): void {
    this.gates.get(doc)?.release()
    this.gates.delete(doc)
  }

  releaseAll(): void {
    for (const doc of [...this.gates.keys()]) this.release(doc)
  }

  /** Resolves once a load of `doc` is held at its gate. */
  reached(doc: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.waiting.has(doc)) return
        this.onWaiting = null
        resolve()
      }
      this.onWaiting = check
      check()
    })
  }

  async loadDoc(doc: string): Promise<StoredDoc | null> {
    const gate = this.gates.get(doc)
    if (gate) {
      this.waiting.add(doc)
      this.onWaiting?.()
      await gate.promise
      this.waiting.delete(doc)
    }
    return this.inner.loadDoc(doc)
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
  append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    return this.inner.append(entries)
  }
  compact(doc: string, snapshot: Uint8Array, upToLogId: number): Promise<void> {
    return this.inner.compact(doc, snapshot, upToLogId)
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
  getMeta(key: string): Promise<Uint8Array | null> {
    return this.inner.getMeta(key)
  }
  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.inner.putMeta(key, value)
  }
}
