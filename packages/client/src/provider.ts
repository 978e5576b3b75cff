/**
 * MeridianProvider: binds a Y.Doc (and an Awareness) to Meridian relays.
 * The connection manager picks regions and keeps a session open; the durable
 * tracker turns relay acks into "saved"; the local cache keeps the document
 * across reloads while offline. This class wires them to the document and
 * turns what they report into events and promises.
 */
import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { ConnectionManager } from './connection-manager.js'
import { DurableTracker } from './durability.js'
import { ClientError } from './errors.js'
import type { MeridianProviderEvents, ProviderStatus } from './events.js'
import { resolveOptions, type MeridianProviderOptions, type ResolvedOptions } from './options.js'
import { IndexedDbPersistence } from './persistence/indexeddb.js'
import { LocalCache } from './persistence/local-cache.js'
import type { LocalPersistence } from './persistence/types.js'
import { resolveWebSocket } from './socket.js'

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

export class MeridianProvider extends ObservableV2<MeridianProviderEvents> {
  readonly awareness: Awareness
  private readonly options: ResolvedOptions
  private readonly manager: ConnectionManager
  private readonly tracker: DurableTracker
  private readonly cache: LocalCache | null
  private readonly ownsAwareness: boolean
  private currentStatus: ProviderStatus = 'offline'
  private statusRegion: string | null = null
  private isSynced = false
  private syncWaiters: Waiter[] = []
  private destroyed = false
  private readonly windowTarget: EventTarget | null

  constructor(
    readonly doc: Y.Doc,
    readonly docName: string,
    options: MeridianProviderOptions,
  ) {
    super()
    this.options = resolveOptions(options)
    const WebSocketImpl = resolveWebSocket(this.options.WebSocketPolyfill)
    if (!WebSocketImpl) throw new ClientError('invalid-options', 'no global WebSocket here: pass WebSocketPolyfill (in Node 20, the `ws` package)')
    this.ownsAwareness = !options.awareness
    this.awareness = options.awareness ?? new Awareness(doc)
    this.tracker = new DurableTracker((durable) => this.fire('durable', [durable]))
    this.manager = new ConnectionManager(doc, docName, this.options, WebSocketImpl, this, {
      status: (status, region) => this.setStatus(status, region),
      regionChange: (from, to, reason) => this.fire('region-change', [{ from, to, reason }]),
      regionHealth: (region, healthy, rttMs) => this.fire('region-health', [{ region, healthy, rttMs }]),
      relayInfo: (info) => this.fire('relay-info', [info]),
      connectionClose: (region, code, reason) => this.fire('connection-close', [{ region, code, reason }]),
      synced: (synced) => this.setSynced(synced),
      durableAck: (sv) => this.tracker.noteAck(sv),
      deletesProven: (generation) => this.tracker.proveDeletes(generation),
      awareness: (update) => applyAwarenessUpdate(this.awareness, update, this),
      queryAwareness: () => {
        const mine = this.localAwareness()
        if (mine) this.manager.current?.sendAwareness(mine)
      },
      fatal: (err) => this.onFatal(err),
      error: (err) => this.report(err),
      pendingDeleteGeneration: () => this.tracker.pendingDeleteGeneration,
      localAwareness: () => this.localAwareness(),
    })
    const store = this.localStore()
    this.cache = store
      ? new LocalCache(doc, store, this.options.compactAfterUpdates, {
          loaded: (sv, hasDeletions) => {
            this.tracker.noteLoaded(sv, hasDeletions)
            this.manager.current?.requestBarrier()
          },
          error: (err) => this.report(err),
        })
      : null
    // Content the document already holds may never have reached a relay.
    if (doc.store.clients.size > 0) this.tracker.noteLoaded(Y.decodeStateVector(Y.encodeStateVector(doc)), Y.snapshot(doc).ds.clients.size > 0)
    doc.on('update', this.onDocUpdate)
    doc.on('destroy', this.onDocDestroy)
    this.awareness.on('update', this.onAwarenessUpdate)
    this.windowTarget = browserWindow()
    this.windowTarget?.addEventListener('online', this.onOnline)
    this.windowTarget?.addEventListener('offline', this.onOffline)
    if (this.options.connect) this.connect()
  }

  /** Region connected now, or null. */
  get region(): string | null {
    return this.manager.region
  }

  /** Id of the relay connected now, or null. */
  get relayId(): string | null {
    return this.manager.relayId
  }

  get status(): ProviderStatus {
    return this.currentStatus
  }

  /** Synced with a relay now (y-websocket's `synced`). */
  get synced(): boolean {
    return this.isSynced
  }

  /** Every local change so far is on some relay's disk. */
  get durable(): boolean {
    return this.tracker.durable
  }

  connect(): void {
    if (!this.destroyed) this.manager.connect()
  }

  /** Closes the connection and stops reconnecting; edits keep accumulating locally. */
  disconnect(): void {
    if (this.destroyed) return
    this.manager.disconnect()
    this.removeRemoteAwareness()
  }

  /** Resolves when synced with some region (at once if synced now). */
  whenSynced(): Promise<void> {
    if (this.destroyed) return Promise.reject(new ClientError('destroyed', 'the provider was destroyed'))
    if (this.isSynced) return Promise.resolve()
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }))
  }

  /** Resolves when every local change made so far is acknowledged as durable by a relay. */
  whenDurable(): Promise<void> {
    return this.tracker.whenDurable()
  }

  /** Resolves when the local copy (IndexedDB, file) has been loaded into the document. */
  whenLoaded(): Promise<void> {
    return this.cache?.whenLoaded ?? Promise.resolve()
  }

  /** Resolves when every update so far is written to the local copy. */
  whenStoredLocally(): Promise<void> {
    return this.cache?.whenStored() ?? Promise.resolve()
  }

  /** Stops everything: sockets, timers, listeners, local store. Idempotent. */
  override destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.manager.destroy()
    this.doc.off('update', this.onDocUpdate)
    this.doc.off('destroy', this.onDocDestroy)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.windowTarget?.removeEventListener('online', this.onOnline)
    this.windowTarget?.removeEventListener('offline', this.onOffline)
    if (this.ownsAwareness) this.awareness.destroy()
    else this.removeRemoteAwareness()
    void this.cache?.destroy()
    this.tracker.destroy()
    const waiters = this.syncWaiters
    this.syncWaiters = []
    for (const w of waiters) w.reject(new ClientError('destroyed', 'the provider was destroyed before it synced'))
    this.setStatus('offline', null)
    super.destroy()
  }

  private localStore(): LocalPersistence | null {
    const p = this.options.persistence
    if (p === false) return null
    if (p === true) return IndexedDbPersistence.available() ? new IndexedDbPersistence(this.docName) : null
    return p
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    if (origin === this) return
    // What the local cache loads was counted as a whole when it loaded.
    if (this.cache === null || origin !== this.cache) this.tracker.noteLocalTransaction(tr)
    const session = this.manager.current
    if (!session) return
    session.sendUpdate(update)
    // After the update, never before: a barrier proves only what precedes it.
    session.requestBarrier()
  }

  private readonly onAwarenessUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    if (origin === this) return
    // Only our own entry: relaying anyone else's would be refused as spoofing.
    const id = this.awareness.clientID
    if (!added.includes(id) && !updated.includes(id) && !removed.includes(id)) return
    this.manager.current?.sendAwareness(encodeAwarenessUpdate(this.awareness, [id]))
  }

  private localAwareness(): Uint8Array | null {
    return this.awareness.getLocalState() === null ? null : encodeAwarenessUpdate(this.awareness, [this.awareness.clientID])
  }

  private removeRemoteAwareness(): void {
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID)
    if (others.length > 0) removeAwarenessStates(this.awareness, others, this)
  }

  private readonly onDocDestroy = (): void => this.destroy()
  private readonly onOnline = (): void => this.manager.retryNow()
  private readonly onOffline = (): void => {
    // The socket may take long to notice; edits meanwhile stay in the document.
    this.manager.disconnect()
    this.manager.connect()
  }

  private setStatus(status: ProviderStatus, region: string | null): void {
    if (status === this.currentStatus && region === this.statusRegion) return
    this.currentStatus = status
    this.statusRegion = region
    this.fire('status', [{ status, region }])
  }

  private setSynced(synced: boolean): void {
    if (!synced) this.removeRemoteAwareness()
    if (synced === this.isSynced) return
    this.isSynced = synced
    if (synced) {
      const waiters = this.syncWaiters
      this.syncWaiters = []
      for (const w of waiters) w.resolve()
    }
    this.fire('sync', [synced])
    this.fire('synced', [synced])
  }

  private onFatal(err: ClientError): void {
    const waiters = this.syncWaiters
    this.syncWaiters = []
    for (const w of waiters) w.reject(err)
    this.report(err)
  }

  /** Recovered errors go to onError and the 'error' event; only with neither is the console the last resort. */
  private report(err: Error): void {
    const handler = this.options.onError
    if (handler) {
      try {
        handler(err)
      } catch (thrown) {
        console.error('[meridian] onError threw', thrown, 'while reporting', err)
      }
    }
    const listening = (this._observers.get('error')?.size ?? 0) > 0
    if (listening) this.fire('error', [err])
    else if (!handler) console.warn('[meridian]', err)
  }

  /** Emits without letting a throwing listener break the provider's own state. */
  private fire<N extends keyof MeridianProviderEvents & string>(name: N, args: Parameters<MeridianProviderEvents[N]>): void {
    for (const listener of [...(this._observers.get(name) ?? [])] as ((...a: unknown[]) => void)[]) {
      try {
        listener(...args)
      } catch (cause) {
        if (name === 'error') console.error('[meridian] an error listener threw', cause)
        else this.report(new ClientError('listener-failed', `a '${name}' listener threw`, { cause }))
      }
    }
  }
}

/** The page's window in browsers (for online/offline events); null in Node and workers without them. */
function browserWindow(): EventTarget | null {
  const g = globalThis as { addEventListener?: unknown; navigator?: { onLine?: unknown } }
  return typeof g.addEventListener === 'function' && typeof g.navigator?.onLine === 'boolean' ? (globalThis as unknown as EventTarget) : null
}
