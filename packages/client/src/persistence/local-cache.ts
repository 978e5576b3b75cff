/**
 * Keeps a Y.Doc and a LocalPersistence in step: loads what is stored into the
 * document, then writes every later update (local or remote, so a reload
 * while offline shows everything seen), one write at a time, compacting after
 * a number of appends. Compaction waits for the load: compacting a document
 * that has not yet absorbed the stored updates would delete them.
 */
import * as Y from 'yjs'
import { decodeStateVectorSafe, type StateVector } from '@meridian/core'
import { ClientError } from '../errors.js'
import type { LocalPersistence } from './types.js'

export interface LocalCacheHooks {
  /** What was loaded, once applied to the document. */
  loaded(stateVector: StateVector, hasDeletions: boolean): void
  error(err: ClientError): void
}

export class LocalCache {
  /** Resolves when stored updates are in the document (also after a failed load, reported as an error). */
  readonly whenLoaded: Promise<void>
  private tail: Promise<void> = Promise.resolve()
  private appendsSinceCompact = 0
  private isLoaded = false
  private destroyed = false

  constructor(
    private readonly doc: Y.Doc,
    private readonly store: LocalPersistence,
    private readonly compactAfter: number,
    private readonly hooks: LocalCacheHooks,
  ) {
    this.doc.on('update', this.onUpdate)
    this.whenLoaded = this.load()
  }

  private async load(): Promise<void> {
    let updates: Uint8Array[]
    try {
      updates = await this.store.load()
    } catch (cause) {
      this.hooks.error(new ClientError('persistence-failed', 'loading the local copy failed', { cause }))
      return
    }
    if (this.destroyed) return
    if (updates.length > 0) {
      const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
      try {
        Y.applyUpdate(this.doc, merged, this)
        // Any stored deletion may be one no relay saw (made offline before a reload).
        this.hooks.loaded(decodeStateVectorSafe(Y.encodeStateVectorFromUpdate(merged)), Y.snapshot(this.doc).ds.clients.size > 0)
      } catch (cause) {
        this.hooks.error(new ClientError('persistence-failed', 'the local copy does not decode', { cause }))
      }
    }
    this.isLoaded = true
    this.appendsSinceCompact += updates.length
    if (this.appendsSinceCompact >= this.compactAfter) {
      this.appendsSinceCompact = 0
      this.enqueue(() => this.store.compact(Y.encodeStateAsUpdate(this.doc)))
    }
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this || this.destroyed) return
    this.enqueue(() => this.store.append(update))
    this.appendsSinceCompact++
    if (this.isLoaded && this.appendsSinceCompact >= this.compactAfter) {
      this.appendsSinceCompact = 0
      this.enqueue(() => this.store.compact(Y.encodeStateAsUpdate(this.doc)))
    }
  }

  private enqueue(write: () => Promise<void>): void {
    this.tail = this.tail.then(write).catch((cause: unknown) => {
      this.hooks.error(new ClientError('persistence-failed', 'writing the local copy failed', { cause }))
    })
  }

  /** Resolves once every update so far is written locally. */
  whenStored(): Promise<void> {
    return this.tail
  }

  /** Stops listening, lets queued writes finish, then closes the store. Idempotent. */
  destroy(): Promise<void> {
    if (this.destroyed) return this.tail
    this.destroyed = true
    this.doc.off('update', this.onUpdate)
    this.tail = this.tail.then(() => this.store.close()).catch((cause: unknown) => {
      this.hooks.error(new ClientError('persistence-failed', 'closing the local copy failed', { cause }))
    })
    return this.tail
  }
}
