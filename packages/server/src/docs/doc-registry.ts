/**
 * Owns the loaded documents of one relay. A document is loaded from storage
 * exactly once, and nobody sees it before that load finished (other Yjs
 * servers have served an empty document while loading). Idle documents
 * leave memory after `idleEvictMs`, so a document costs memory only while in
 * use; long logs are compacted into a snapshot on load.
 */
import * as Y from 'yjs'
import type { Logger } from 'pino'
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

export type EffectiveUpdateListener = (doc: LiveDoc, update: Uint8Array, origin: UpdateOrigin) => void

export class DocRegistry {
  private readonly docs = new Map<string, Promise<LiveDoc>>()
  private readonly loaded = new Map<string, LiveDoc>()
  private readonly evictTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly listeners = new Set<EffectiveUpdateListener>()
  private closed = false

  constructor(private readonly options: DocRegistryOptions) {}

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

  /** The loaded document, loading it first if needed. Never resolves to a half-loaded doc. */
  acquire(name: string): Promise<LiveDoc> {
    if (this.closed) return Promise.reject(new Error('registry closed'))
    this.cancelEviction(name)
    let pending = this.docs.get(name)
    if (!pending) {
      pending = this.load(name)
      this.docs.set(name, pending)
      pending.catch(() => this.docs.delete(name))
    }
    return pending
  }

  /** A loaded document, without loading. */
  peek(name: string): LiveDoc | undefined {
    return this.loaded.get(name)
  }

  private async load(name: string): Promise<LiveDoc> {
    const { store, logger } = this.options
    const stored = await store.loadDoc(name)
    const live = new LiveDoc(name, {
      persist: this.options.persist,
      encodeDurableAck: this.options.encodeDurableAck,
      onPersistError: this.options.onPersistError,
      onEffectiveUpdate: (doc, update, origin) => {
        for (const listener of this.listeners) listener(doc, update, origin)
      },
      onIdle: (doc) => this.scheduleEviction(doc),
    })
    if (stored) {
      live.doc.transact(() => {
        const parts = stored.snapshot ? [stored.snapshot, ...stored.log] : stored.log
        this.options.onStoredLoaded?.(parts.reduce((n, p) => n + p.byteLength, 0))
        for (const part of parts) {
          try {
            Y.applyUpdate(live.doc, part, STORAGE_ORIGIN)
          } catch (err) {
            // Validated before it was written, so this means on-disk damage.
            logger.error({ code: 'storage-corrupt', doc: name, err }, 'skipping an unreadable stored update')
          }
        }
      }, STORAGE_ORIGIN)
      if (stored.log.length >= this.options.compactAfterEntries) {
        const snapshot = Y.encodeStateAsUpdate(live.doc)
        store.compact(name, snapshot, stored.lastLogId).then(
          () => this.options.onCompaction?.(true),
          (err: unknown) => {
            this.options.onCompaction?.(false)
            logger.error({ code: 'compaction-failed', doc: name, err }, 'compaction failed; the log is kept')
          },
        )
      }
    }
    if (this.closed) {
      live.destroy()
      throw new Error('registry closed')
    }
    this.loaded.set(name, live)
    // Loaded for someone who may never attach (a refused client, a peer
    // delta): make sure it still leaves memory when nobody uses it.
    this.scheduleEviction(live)
    return live
  }

  private scheduleEviction(live: LiveDoc): void {
    if (this.closed || this.evictTimers.has(live.name)) return
    const timer = setTimeout(() => {
      this.evictTimers.delete(live.name)
      if (!live.isIdle() || this.loaded.get(live.name) !== live) return
      this.loaded.delete(live.name)
      this.docs.delete(live.name)
      live.destroy()
    }, this.options.idleEvictMs)
    timer.unref?.()
    this.evictTimers.set(live.name, timer)
  }

  private cancelEviction(name: string): void {
    const timer = this.evictTimers.get(name)
    if (timer) {
      clearTimeout(timer)
      this.evictTimers.delete(name)
    }
  }

  /** Hands every loaded document's pending turn to persistence now. */
  flushPending(): void {
    for (const live of this.loaded.values()) live.flushPending()
  }

  /** Drops every document without persisting pending turns (a simulated crash). */
  abandon(): void {
    if (this.closed) return
    this.closed = true
    for (const timer of this.evictTimers.values()) clearTimeout(timer)
    this.evictTimers.clear()
    for (const live of this.loaded.values()) live.abandon()
    this.loaded.clear()
    this.docs.clear()
    this.listeners.clear()
  }

  /** Hands every pending turn to persistence and drops all documents. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const timer of this.evictTimers.values()) clearTimeout(timer)
    this.evictTimers.clear()
    for (const live of this.loaded.values()) live.destroy()
    this.loaded.clear()
    this.docs.clear()
    this.listeners.clear()
  }
}
