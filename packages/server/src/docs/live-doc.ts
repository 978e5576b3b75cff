/**
 * A document while it is in use: its Y.Doc, awareness, connections, and the
 * per-turn batching of fan-out, persistence and durable acks.
 *
 * Why per turn: updates that arrive for one document within one event-loop
 * turn are merged into one message that is encoded once and sent as the same
 * buffer to every connection, and persisted as one log entry. The state
 * vector that a durable ack carries is captured once per turn as well.
 *
 * Fan-out does not wait for the disk (latency stays at a bare relay's); only
 * the durable ack does, so "saved" on a client always means "on disk here".
 */
import * as Y from 'yjs'
import { Awareness, removeAwarenessStates } from 'y-protocols/awareness'
import { encodeAwareness, encodeSyncUpdate } from '@meridian/core'
import { encodeAwarenessUpdate as encodeAwarenessStates } from 'y-protocols/awareness'
import type { UpdateOrigin } from './origin.js'

/** What a LiveDoc needs from a connection; the client endpoint implements it. */
export interface DocConnection {
  readonly id: number
  /** True for Meridian clients that opted in to durable acks. */
  readonly wantsDurableAcks: boolean
  send(message: Uint8Array): void
}

export interface LiveDocHooks {
  /** Persist one merged update; resolves once durable. */
  persist(doc: string, update: Uint8Array): Promise<unknown>
  /** Every update that changed this document, with its origin (for the mesh). */
  onEffectiveUpdate(doc: LiveDoc, update: Uint8Array, origin: UpdateOrigin): void
  /** Encodes a durable ack, or returns null when acks must not be sent (storage failed). */
  encodeDurableAck(stateVector: Uint8Array): Uint8Array | null
  onPersistError(doc: string, err: unknown): void
  /** Called when the document has no connections and nothing in flight. */
  onIdle(doc: LiveDoc): void
}

export class LiveDoc {
  readonly doc = new Y.Doc({ gc: true })
  private awarenessInstance: Awareness | null = null
  readonly connections = new Map<number, DocConnection>()
  /** Awareness client ids introduced by each connection, removed when it leaves. */
  readonly awarenessIdsByConnection = new Map<number, Set<number>>()

  private turnUpdates: Uint8Array[] = []
  private turnSenders = new Set<number>()
  private turnScheduled: ReturnType<typeof setImmediate> | null = null
  private persistsInFlight = 0
  private closed = false
  /** Log entries appended since load; drives compaction. */
  logEntriesSinceLoad = 0
  /** Count of updates that changed the document (to tell no-op deliveries apart). */
  effectiveUpdates = 0

  constructor(
    readonly name: string,
    private readonly hooks: LiveDocHooks,
  ) {
    this.doc.on('update', this.handleUpdate)
  }

  /**
   * Created on first use: documents that only replicate (no clients) then
   * cost no Awareness object and no Awareness timer.
   */
  get awareness(): Awareness {
    if (!this.awarenessInstance) {
      const awareness = new Awareness(this.doc)
      // The relay has no presence of its own.
      awareness.setLocalState(null)
      awareness.on('update', this.handleAwarenessChange)
      this.awarenessInstance = awareness
    }
    return this.awarenessInstance
  }

  hasAwareness(): boolean {
    return this.awarenessInstance !== null
  }

  private readonly handleAwarenessChange = (
    change: { added: number[]; updated: number[]; removed: number[] },
  ): void => {
    const changed = [...change.added, ...change.updated, ...change.removed]
    if (changed.length === 0 || this.connections.size === 0) return
    const message = encodeAwareness(encodeAwarenessStates(this.awareness, changed))
    for (const conn of this.connections.values()) conn.send(message)
  }

  get inFlight(): number {
    return this.persistsInFlight + (this.turnScheduled ? 1 : 0)
  }

  private readonly handleUpdate = (update: Uint8Array, origin: unknown): void => {
    const o = origin as UpdateOrigin
    if (o?.kind === 'storage') return
    this.effectiveUpdates++
    this.hooks.onEffectiveUpdate(this, update, o)
    this.turnUpdates.push(update)
    if (o?.kind === 'client') this.turnSenders.add(o.connectionId)
    else this.turnSenders.add(-1)
    if (this.turnScheduled === null) this.turnScheduled = setImmediate(this.flushTurn)
  }

  /** Bytes of updates held back because their dependencies are missing. */
  pendingBytes(): number {
    const store = this.doc.store
    return (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0)
  }

  /**
   * The document's state (or the part a state vector lacks) without the
   * held-back updates: those are not the document, and a peer or client
   * must not receive what this relay could not integrate.
   */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    const store = this.doc.store
    const { pendingStructs, pendingDs } = store
    store.pendingStructs = null
    store.pendingDs = null
    try {
      return Y.encodeStateAsUpdate(this.doc, stateVector)
    } finally {
      store.pendingStructs = pendingStructs
      store.pendingDs = pendingDs
    }
  }

  /** Forgets held-back updates (they came from a connection being closed for them). */
  clearPending(): void {
    this.doc.store.pendingStructs = null
    this.doc.store.pendingDs = null
  }

  /** Apply an update from any origin. Validation happened at the edge. */
  apply(update: Uint8Array, origin: UpdateOrigin): void {
    Y.applyUpdate(this.doc, update, origin)
  }

  /** Hands this turn's updates to persistence now rather than at the end of the turn. */
  flushPending(): void {
    if (this.turnScheduled === null) return
    clearImmediate(this.turnScheduled)
    this.flushTurn()
  }

  private readonly flushTurn = (): void => {
    this.turnScheduled = null
    const updates = this.turnUpdates
    const senders = this.turnSenders
    this.turnUpdates = []
    this.turnSenders = new Set()
    if (updates.length === 0 || this.closed) return
    const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
    const message = encodeSyncUpdate(merged)
    // With a single sending connection we can skip it; with several, each
    // gets the merged message back, which Yjs ignores for what it already has.
    const only = senders.size === 1 ? [...senders][0]! : undefined
    for (const conn of this.connections.values()) if (conn.id !== only) conn.send(message)
    const stateVector = Y.encodeStateVector(this.doc)
    this.persistsInFlight++
    this.logEntriesSinceLoad++
    this.hooks.persist(this.name, merged).then(
      () => {
        this.persistsInFlight--
        this.sendDurableAck(stateVector)
        this.maybeIdle()
      },
      (err: unknown) => {
        this.persistsInFlight--
        this.hooks.onPersistError(this.name, err)
      },
    )
  }

  private sendDurableAck(stateVector: Uint8Array): void {
    const message = this.hooks.encodeDurableAck(stateVector)
    if (message === null) return
    for (const conn of this.connections.values()) if (conn.wantsDurableAcks) conn.send(message)
  }

  /**
   * The state vector a newly joined Meridian client may be told is durable:
   * the current one, but only when nothing is in flight (everything was
   * loaded from or written to storage). While a write is in flight the next
   * ack will come after it; an older ack would let a client take a
   * delete-only edit that is still being written for saved.
   */
  durableStateVector(): Uint8Array | null {
    return this.persistsInFlight === 0 && this.turnScheduled === null ? Y.encodeStateVector(this.doc) : null
  }

  addConnection(conn: DocConnection): void {
    this.connections.set(conn.id, conn)
  }

  removeConnection(connId: number): void {
    if (!this.connections.delete(connId)) return
    this.turnSenders.delete(connId)
    const ids = this.awarenessIdsByConnection.get(connId)
    this.awarenessIdsByConnection.delete(connId)
    if (ids && ids.size > 0 && this.awarenessInstance) {
      // Tell the others this connection's users left, as y-websocket does.
      removeAwarenessStates(this.awareness, [...ids], 'connection-closed')
    }
    this.maybeIdle()
  }

  private maybeIdle(): void {
    if (!this.closed && this.connections.size === 0 && this.inFlight === 0) this.hooks.onIdle(this)
  }

  isIdle(): boolean {
    return this.connections.size === 0 && this.inFlight === 0
  }

  /** Drops the document without persisting its pending turn (a simulated crash). */
  abandon(): void {
    if (this.turnScheduled) clearImmediate(this.turnScheduled)
    this.turnScheduled = null
    this.turnUpdates = []
    this.destroy()
  }

  destroy(): void {
    if (this.closed) return
    if (this.turnScheduled) {
      // Never drop a turn's updates: hand them to persistence before closing.
      clearImmediate(this.turnScheduled)
      this.flushTurn()
    }
    this.closed = true
    this.doc.off('update', this.handleUpdate)
    if (this.awarenessInstance) {
      this.awarenessInstance.off('update', this.handleAwarenessChange)
      this.awarenessInstance.destroy()
      this.awarenessInstance = null
    }
    this.doc.destroy()
  }
}

