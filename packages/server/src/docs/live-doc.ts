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
import { createRelayDoc, heldBackBytes, liveDocOf, mergeTurn } from './relay-doc.js'

/** What a LiveDoc needs from a connection; the client endpoint implements it. */
export interface DocConnection {
  readonly id: number
  /** True for Meridian clients that opted in to durable acks. */
  readonly wantsDurableAcks: boolean
  send(message: Uint8Array): void
  close(code: number, reason: string): void
}

export interface LiveDocHooks {
  /** Persist one merged update; resolves once durable. */
  persist(doc: string, update: Uint8Array): Promise<unknown>
  /**
   * Every update that changed this document, with its origin (for the mesh).
   * `releasedHeldBack`: the document held back updates (missing dependencies)
   * before this one was applied, so the change may include content that came
   * from elsewhere, earlier: it must not be treated as the origin's alone.
   */
  onEffectiveUpdate(doc: LiveDoc, update: Uint8Array, origin: UpdateOrigin, releasedHeldBack: boolean): void
  /** Encodes a durable ack, or returns null when acks must not be sent (storage failed). */
  encodeDurableAck(stateVector: Uint8Array): Uint8Array | null
  onPersistError(doc: string, err: unknown): void
  /** Called when the document has no connections and nothing in flight. */
  onIdle?(doc: LiveDoc): void
  /** A write of this document is durable (drives compaction of open documents). */
  onWriteDurable?(doc: LiveDoc): void
  /**
   * The in-memory document must be replaced by what storage holds: applying
   * an update threw after Yjs may have integrated part of it, or held-back
   * content a client sent had to be dropped (called after the caller has
   * handled the error).
   */
  onStale?(doc: LiveDoc): void
}

/** No sender, one connection's id, or this: several connections or a peer. */
const NO_SENDER = -2
const MANY_SENDERS = -1

const onDocUpdate = (update: Uint8Array, origin: unknown, doc: Y.Doc): void => liveDocOf(doc)?.handleUpdate(update, origin)
const flushTurnOf = (live: LiveDoc): void => live.flushTurn()

/**
 * Memory matters here: a relay holds one per document in use, so the fields
 * are few and lazily created, and handlers are shared functions rather than
 * per-instance closures (see docs/decisions.md, memory per document).
 */
export class LiveDoc {
  readonly doc: Y.Doc
  private awarenessInstance: Awareness | null = null
  /** Usually one or two; an array costs far less than a Map for that. */
  private readonly conns: DocConnection[] = []
  private awarenessIds: Map<number, Set<number>> | null = null

  /** This turn's effective updates (created on the first, as a relay holds many idle documents). */
  private turnUpdates: Uint8Array[] | null = null
  private turnSender = NO_SENDER
  private turnScheduled: ReturnType<typeof setImmediate> | null = null
  /** Set while an update is being applied: its effects are held until Yjs returns without throwing. */
  private tentative: { update: Uint8Array; origin: unknown }[] | null = null
  /**
   * Peer updates Yjs held back this turn. The peer's ack moves its cursor past
   * them, so they are written to the log (not fanned out) and survive a crash
   * until their dependencies arrive.
   */
  private turnHeldBack: Uint8Array[] | null = null
  /** Set once the in-memory state can no longer be trusted; the registry reloads it. */
  private stale = false
  private persistsInFlight = 0
  /**
   * The newest write handed to storage, until it settles. Group commit
   * settles writes in order, so it settling means every earlier one has.
   */
  private lastWrite: Promise<unknown> | null = null
  private closed = false
  /** Log entries written since the last compaction (or load); drives compaction. */
  logEntriesSinceCompaction = 0
  /** Count of updates that changed the document (to tell no-op deliveries apart). */
  effectiveUpdates = 0
  /** When the document last became idle (no connections, nothing in flight). */
  idleSince = Date.now()

  constructor(
    readonly name: string,
    private readonly hooks: LiveDocHooks,
  ) {
    this.doc = createRelayDoc(this)
    this.doc.on('update', onDocUpdate)
  }

  /** The connections on this document, for fan-out. */
  get connections(): readonly DocConnection[] {
    return this.conns
  }

  /** Awareness client ids introduced by each connection, removed when it leaves (created on first use). */
  get awarenessIdsByConnection(): Map<number, Set<number>> {
    return (this.awarenessIds ??= new Map())
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
    if (changed.length === 0 || this.conns.length === 0) return
    const message = encodeAwareness(encodeAwarenessStates(this.awareness, changed))
    for (const conn of this.conns) conn.send(message)
  }

  get inFlight(): number {
    return this.persistsInFlight + (this.turnScheduled ? 1 : 0)
  }

  /** The Y.Doc's `update` event: only what was new arrives here. */
  handleUpdate(update: Uint8Array, origin: unknown, releasedHeldBack = false): void {
    if (this.tentative) {
      this.tentative.push({ update, origin })
      return
    }
    const o = origin as UpdateOrigin
    if (o?.kind === 'storage') return
    this.effectiveUpdates++
    this.hooks.onEffectiveUpdate(this, update, o, releasedHeldBack)
    this.turnUpdates ??= []
    this.turnUpdates.push(update)
    // The sender can be skipped only if the change is all its own: content
    // released from the held-back set came from someone else (found by the
    // simulation: a client whose update completed another's never got it).
    const sender = o?.kind === 'client' && !releasedHeldBack ? o.connectionId : MANY_SENDERS
    this.turnSender = this.turnSender === NO_SENDER || this.turnSender === sender ? sender : MANY_SENDERS
    if (this.turnScheduled === null) this.turnScheduled = setImmediate(flushTurnOf, this)
  }

  /** Bytes of updates held back because their dependencies are missing. */
  pendingBytes(): number {
    return heldBackBytes(this.doc.store)
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

  /**
   * Drops every held-back update from memory (a connection flooded it) and
   * has the document reloaded from storage, which brings back the held-back
   * peer updates it wrote and not what the client sent.
   */
  discardHeldBack(): void {
    this.doc.store.pendingStructs = null
    this.doc.store.pendingDs = null
    this.markStale()
  }

  private markStale(): void {
    if (this.stale) return
    this.stale = true
    queueMicrotask(() => this.hooks.onStale?.(this))
  }

  /** True once the document waits to be reloaded from storage (nothing more is applied to it). */
  get isStale(): boolean {
    return this.stale
  }

  /**
   * Applies an update from any origin (validated at the edge). Should Yjs
   * throw part-way, what it integrated before throwing is neither fanned
   * out, persisted nor gossiped, and the document is reported corrupted so
   * it is reloaded from storage; the error is rethrown to the caller.
   */
  apply(update: Uint8Array, origin: UpdateOrigin): void {
    if (this.stale) throw new Error(`document ${this.name} is being reloaded from storage`)
    const store = this.doc.store
    const missingBefore = store.pendingStructs ? [...store.pendingStructs.missing] : null
    const heldStructsBefore = store.pendingStructs?.update ?? null
    const heldDsBefore = store.pendingDs
    const effects: { update: Uint8Array; origin: unknown }[] = []
    this.tentative = effects
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch (err) {
      this.tentative = null
      if (effects.length > 0) this.markStale()
      throw err
    }
    this.tentative = null
    // Yjs retries held-back structs once a clock they waited for is present,
    // and re-applies held-back deletions every time; a shorter rest means some took effect.
    const released =
      (missingBefore?.some(([client, clock]) => clock < Y.getState(store, client)) ?? false) ||
      (heldDsBefore !== null && (store.pendingDs === null || store.pendingDs.byteLength < heldDsBefore.byteLength))
    for (const e of effects) this.handleUpdate(e.update, e.origin, released)
    const heldBackChanged = (store.pendingStructs?.update ?? null) !== heldStructsBefore || store.pendingDs !== heldDsBefore
    if (origin.kind === 'peer' && heldBackChanged && heldBackBytes(store) > 0) {
      this.turnHeldBack ??= []
      this.turnHeldBack.push(update)
      if (this.turnScheduled === null) this.turnScheduled = setImmediate(flushTurnOf, this)
    }
  }

  /** Hands this turn's updates to persistence now rather than at the end of the turn. */
  flushPending(): void {
    if (this.turnScheduled === null) return
    clearImmediate(this.turnScheduled)
    this.flushTurn()
  }

  /** End of the turn: one merged message to every connection, one log entry, one ack state vector. */
  flushTurn(): void {
    this.turnScheduled = null
    const updates = this.turnUpdates ?? []
    const heldBack = this.turnHeldBack ?? []
    const only = this.turnSender
    this.turnUpdates = null
    this.turnHeldBack = null
    this.turnSender = NO_SENDER
    if ((updates.length === 0 && heldBack.length === 0) || this.closed) return
    if (updates.length > 0) {
      const merged = mergeTurn(updates)
      const message = encodeSyncUpdate(merged)
      // With a single sending connection we can skip it; with several, each
      // gets the merged message back, which Yjs ignores for what it already has.
      for (const conn of this.conns) if (conn.id !== only) conn.send(message)
      this.write(merged, Y.encodeStateVector(this.doc))
    }
    // Held-back updates get log entries of their own: merged with others they
    // could leave a gap in a client's clocks, and Yjs may never integrate what
    // follows such a gap (yjs/yjs#406). They move no state vector: no ack.
    for (const update of heldBack) this.write(update, null)
  }

  /** Hands one update to storage; once durable, acks `ackStateVector` (if any) to Meridian clients. */
  private write(update: Uint8Array, ackStateVector: Uint8Array | null): void {
    this.persistsInFlight++
    this.logEntriesSinceCompaction++
    const write = this.hooks.persist(this.name, update)
    this.lastWrite = write
    write.then(
      () => {
        if (this.lastWrite === write) this.lastWrite = null
        this.persistsInFlight--
        if (ackStateVector) this.sendDurableAck(ackStateVector)
        if (!this.closed) this.hooks.onWriteDurable?.(this)
        this.maybeIdle()
      },
      (err: unknown) => {
        this.persistsInFlight--
        this.hooks.onPersistError(this.name, err)
      },
    )
  }

  /**
   * Resolves once every update applied to this document so far is durable
   * (this turn's included); rejects if one of those writes failed. A durable
   * barrier waits on it, which proves what a state vector cannot name: deletions.
   */
  whenWritesDurable(): Promise<void> {
    this.flushPending()
    return this.lastWrite ? this.lastWrite.then(() => undefined) : Promise.resolve()
  }

  private sendDurableAck(stateVector: Uint8Array): void {
    const message = this.hooks.encodeDurableAck(stateVector)
    if (message === null) return
    for (const conn of this.conns) if (conn.wantsDurableAcks) conn.send(message)
  }

  /**
   * The state vector a newly joined Meridian client may be told is durable:
   * the current one, but only when nothing is in flight (everything was
   * loaded from or written to storage). While a write is in flight the next
   * ack will come after it; an older ack would let a client take a
   * delete-only edit that is still being written for saved.
   */
  durableStateVector(): Uint8Array | null {
    return this.persistsInFlight === 0 && this.turnScheduled === null && !this.stale ? Y.encodeStateVector(this.doc) : null
  }

  addConnection(conn: DocConnection): void {
    if (!this.conns.includes(conn)) this.conns.push(conn)
  }

  removeConnection(connId: number): void {
    const at = this.conns.findIndex((c) => c.id === connId)
    if (at < 0) return
    this.conns.splice(at, 1)
    const ids = this.awarenessIds?.get(connId)
    this.awarenessIds?.delete(connId)
    if (ids && ids.size > 0 && this.awarenessInstance) {
      // Tell the others this connection's users left, as y-websocket does.
      removeAwarenessStates(this.awareness, [...ids], 'connection-closed')
    }
    this.maybeIdle()
  }

  private maybeIdle(): void {
    if (this.closed || !this.isIdle()) return
    this.idleSince = Date.now()
    this.hooks.onIdle?.(this)
  }

  isIdle(): boolean {
    return this.conns.length === 0 && this.inFlight === 0
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Closes every connection on this document (it is being reloaded). */
  closeConnections(code: number, reason: string): void {
    for (const conn of [...this.conns]) conn.close(code, reason)
  }

  /** Drops the document without persisting its pending turn (a simulated crash). */
  abandon(): void {
    if (this.turnScheduled) clearImmediate(this.turnScheduled)
    this.turnScheduled = null
    this.turnUpdates = null
    this.turnHeldBack = null
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
    this.doc.off('update', onDocUpdate)
    if (this.awarenessInstance) {
      this.awarenessInstance.off('update', this.handleAwarenessChange)
      this.awarenessInstance.destroy()
      this.awarenessInstance = null
    }
    this.doc.destroy()
  }
}

