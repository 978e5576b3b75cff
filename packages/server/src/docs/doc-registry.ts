/**
 * Owns the loaded documents of one relay. A document is loaded from storage
 * exactly once, and nobody sees it before that load finished (other Yjs
 * servers have served an empty document while loading). Documents idle for
 * `idleEvictMs` leave memory, so a document costs memory only while in use;
 * logs are compacted into a snapshot on load and, for documents that stay
 * open, every `compactAfterEntries` writes.
 */
import * as Y from 'yjs'
import type { Logger } from 'pino'
import { CloseCode } from '@meridian/core'
import { LiveDoc, type LiveDocHooks } from './live-doc.js'
import { STORAGE_ORIGIN, type UpdateOrigin } from './origin.js'
import type { DocStore } from '../storage/doc-store.js'

export interface DocRegistryOptions {
  store: DocStore
  idleEvictMs: number
  compactAfterEntries: number
  logger: Logger
  persist: LiveDocHooks['persist']
  encodeDurableAck: LiveDocHooks['encodeDurableAck']
  onPersistError: LiveDocHooks['onPersistError']
  onCompaction?: (ok: boolean) => void
  /** Bytes of stored updates applied when a document loads. */
  onStoredLoaded?: (bytes: number) => void
}

/** See LiveDocHooks.onEffectiveUpdate for `releasedHeldBack`. */
export type EffectiveUpdateListener = (doc: LiveDoc, update: Uint8Array, origin: UpdateOrigin, releasedHeldBack: boolean) => void

/** The sweep looks for idle documents this often (bounded so eviction stays close to idleEvictMs). */
const sweepIntervalOf = (idleEvictMs: number): number => Math.max(5, Math.min(5_000, Math.floor(idleEvictMs / 2)))

export class DocRegistry {
  /** Loads in progress; a document leaves this map once loaded. */
  private readonly loading = new Map<string, Promise<LiveDoc>>()
  private readonly loaded = new Map<string, LiveDoc>()
  private readonly compacting = new Set<string>()
  private readonly listeners = new Set<EffectiveUpdateListener>()
  private readonly evictionListeners = new Set<(doc: string) => void>()
  private readonly hooks: LiveDocHooks
  private sweepTimer: ReturnType<typeof setInterval> | null = null
  private closed = false

  constructor(private readonly options: DocRegistryOptions) {
    // One hooks object for every document: per-document closures cost heap.
    this.hooks = {
      persist: options.persist,
      encodeDurableAck: options.encodeDurableAck,
      onPersistError: options.onPersistError,
      onEffectiveUpdate: (doc, update, origin, releasedHeldBack) => {
        for (const listener of this.listeners) listener(doc, update, origin, releasedHeldBack)
      },
      onWriteDurable: (doc) => this.maybeCompact(doc),
      onStale: (doc) => this.reload(doc),
    }
  }

  get size(): number {
    return this.loaded.size
  }

  loadedDocs(): IterableIterator<LiveDoc> {
    return this.loaded.values()
  }

  onEffectiveUpdate(listener: EffectiveUpdateListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Called with the name of every document that leaves memory (idle, or dropped to be reloaded). */
  onEvicted(listener: (doc: string) => void): () => void {
    this.evictionListeners.add(listener)
    return () => this.evictionListeners.delete(listener)
  }

  private evicted(name: string): void {
    for (const listener of [...this.evictionListeners]) listener(name)
  }

  /**
   * The loaded document, loading it first if needed. Never resolves to a
   * half-loaded doc. Callers use it in the same turn it resolves (eviction
   * runs from a timer, so it cannot come in between).
   */
  acquire(name: string): Promise<LiveDoc> {
    if (this.closed) return Promise.reject(new Error('registry closed'))
    const live = this.loaded.get(name)
    if (live) return Promise.resolve(live)
    let pending = this.loading.get(name)
    if (!pending) {
      pending = this.load(name)
      this.loading.set(name, pending)
      const done = (): void => {
        if (this.loading.get(name) === pending) this.loading.delete(name)
      }
      pending.then(done, done)
    }
    return pending
  }

  /** A loaded document, without loading. */
  peek(name: string): LiveDoc | undefined {
    return this.loaded.get(name)
  }

  private async load(name: string, after?: Promise<unknown>): Promise<LiveDoc> {
    await after
    const { store, logger } = this.options
    const stored = await store.loadDoc(name)
    if (this.closed) throw new Error('registry closed')
    const live = new LiveDoc(name, this.hooks)
    if (stored) {
      let damaged = false
      live.doc.transact(() => {
        const parts = stored.snapshot ? [stored.snapshot, ...stored.log] : stored.log
        this.options.onStoredLoaded?.(parts.reduce((n, p) => n + p.byteLength, 0))
        for (const part of parts) {
          try {
            Y.applyUpdate(live.doc, part, STORAGE_ORIGIN)
          } catch (err) {
            // Validated before it was written, so this means on-disk damage.
            damaged = true
            logger.error({ code: 'storage-corrupt', doc: name, err }, 'skipping an unreadable stored update')
          }
        }
      }, STORAGE_ORIGIN)
      // A compaction would turn what survived of a damaged entry into the snapshot and delete the entry.
      if (!damaged && stored.log.length >= this.options.compactAfterEntries) this.compact(live, stored.lastLogId)
    }
    this.loaded.set(name, live)
    this.startSweep()
    return live
  }

  /** An open document that has written enough log entries is compacted too. */
  private maybeCompact(live: LiveDoc): void {
    if (live.logEntriesSinceCompaction < this.options.compactAfterEntries || this.compacting.has(live.name)) return
    this.compacting.add(live.name)
    // The log id is read before the snapshot is taken: the snapshot then holds
    // at least every entry up to it, and entries written after stay in the log.
    this.options.store.loadDoc(live.name).then(
      (stored) => {
        this.compacting.delete(live.name)
        if (stored && !live.isClosed && !live.isStale && this.loaded.get(live.name) === live) this.compact(live, stored.lastLogId)
      },
      (err: unknown) => {
        this.compacting.delete(live.name)
        this.options.logger.warn({ code: 'compaction-failed', doc: live.name, err }, 'could not read the log to compact it')
      },
    )
  }

  private compact(live: LiveDoc, upToLogId: number): void {
    // Held-back updates live in their own log entries until their dependencies
    // arrive; a snapshot would have to merge them in, and a merge across a
    // clock gap may never integrate (yjs/yjs#406). Compact once they are in.
    if (live.pendingBytes() > 0) return
    live.logEntriesSinceCompaction = 0
    const { store, logger } = this.options
    store.compact(live.name, live.encodeStateAsUpdate(), upToLogId).then(
      () => this.options.onCompaction?.(true),
      (err: unknown) => {
        this.options.onCompaction?.(false)
        logger.error({ code: 'compaction-failed', doc: live.name, err }, 'compaction failed; the log is kept')
      },
    )
  }

  /**
   * Drops a document whose in-memory state can no longer be trusted (Yjs
   * threw part-way through an update) and reloads it from storage once its
   * good writes are durable; its clients reconnect and sync again.
   */
  private reload(live: LiveDoc): void {
    if (this.closed || this.loaded.get(live.name) !== live) return
    this.options.logger.warn({ code: 'doc-reloaded', doc: live.name }, 'reloading the document from storage (an update failed part-way, or held-back content was dropped)')
    this.loaded.delete(live.name)
    const writes = live.whenWritesDurable().catch(() => undefined)
    live.closeConnections(CloseCode.InternalError, 'document reloaded after a rejected update; reconnect')
    live.destroy()
    this.evicted(live.name)
    const pending = this.load(live.name, writes)
    this.loading.set(live.name, pending)
    const done = (): void => {
      if (this.loading.get(live.name) === pending) this.loading.delete(live.name)
    }
    pending.then(done, done)
  }

  /** One timer for all documents, instead of one per document: it evicts those idle long enough. */
  private startSweep(): void {
    if (this.sweepTimer || this.closed) return
    this.sweepTimer = setInterval(() => this.sweep(), sweepIntervalOf(this.options.idleEvictMs))
    this.sweepTimer.unref?.()
  }

  private sweep(): void {
    const now = Date.now()
    for (const live of this.loaded.values()) {
      if (!live.isIdle() || now - live.idleSince < this.options.idleEvictMs) continue
      this.loaded.delete(live.name)
      live.destroy()
      this.evicted(live.name)
    }
    if (this.loaded.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer)
      this.sweepTimer = null
    }
  }

  /** Hands every loaded document's pending turn to persistence now. */
  flushPending(): void {
    for (const live of this.loaded.values()) live.flushPending()
  }

  private stop(): void {
    this.closed = true
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.sweepTimer = null
  }

  /** Drops every document without persisting pending turns (a simulated crash). */
  abandon(): void {
    if (this.closed) return
    this.stop()
    for (const live of this.loaded.values()) live.abandon()
    this.loaded.clear()
    this.loading.clear()
    this.listeners.clear()
    this.evictionListeners.clear()
  }

  /** Hands every pending turn to persistence and drops all documents. Idempotent. */
  close(): void {
    if (this.closed) return
    this.stop()
    for (const live of this.loaded.values()) live.destroy()
    this.loaded.clear()
    this.loading.clear()
    this.listeners.clear()
    this.evictionListeners.clear()
  }
}
