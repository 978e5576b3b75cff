/**
 * Tracks whether every local change has been acknowledged as durable by some
 * relay ("saved").
 *
 * Inserts are exact: a local transaction raises our clock for the clients it
 * wrote, and a durable-ack's state vector covering that clock proves the
 * relay's disk holds it (the relay captures the vector when it hands the
 * update to storage and sends it only after the write completed). Acks from
 * different relays combine by per-client maximum: each covered clock is on
 * the disk of at least one relay.
 *
 * Deletions are not in state vectors, so a transaction that only deletes
 * cannot be proven that way. Such changes bump a generation counter; the
 * session sends a durable barrier carrying it, and the relay's answer
 * (barrier-durable) proves that generation and every older one. A deletion made together with an insert travels in the same update
 * and is stored in the same write, so the insert's proof covers it.
 */
import type * as Y from 'yjs'
import { dominates, type StateVector } from '@meridian/core'
import { ClientError } from './errors.js'

interface Waiter {
  target: StateVector
  deleteGeneration: number
  resolve: () => void
  reject: (err: Error) => void
}

export class DurableTracker {
  /** Clocks our local changes reached, per client id. */
  private readonly target: StateVector = new Map()
  /** Per-client maximum over every durable-ack received from any relay. */
  private readonly acked: StateVector = new Map()
  private deleteGeneration = 0
  private provenDeleteGeneration = 0
  private waiters: Waiter[] = []
  private last = true
  private destroyed = false

  constructor(private readonly onChange: (durable: boolean) => void) {}

  /** A transaction that did not come from a relay or from local storage. */
  noteLocalTransaction(tr: Y.Transaction): void {
    let inserted = false
    for (const [client, clock] of tr.afterState) {
      if (clock > (tr.beforeState.get(client) ?? 0)) {
        inserted = true
        if (clock > (this.target.get(client) ?? 0)) this.target.set(client, clock)
      }
    }
    if (!inserted && tr.deleteSet.clients.size > 0) this.deleteGeneration++
    this.changed()
  }

  /**
   * Content loaded from local storage may hold changes no relay ever saw
   * (edits made offline before a reload): all of it must be acknowledged,
   * deletions included.
   */
  noteLoaded(stateVector: StateVector, hasDeletions: boolean): void {
    for (const [client, clock] of stateVector) {
      if (clock > (this.target.get(client) ?? 0)) this.target.set(client, clock)
    }
    if (hasDeletions) this.deleteGeneration++
    this.changed()
  }

  noteAck(stateVector: StateVector): void {
    for (const [client, clock] of stateVector) {
      if (clock > (this.acked.get(client) ?? 0)) this.acked.set(client, clock)
    }
    this.changed()
  }

  /** Deletion generation waiting for proof, or null when all are proven. */
  get pendingDeleteGeneration(): number | null {
    return this.deleteGeneration > this.provenDeleteGeneration ? this.deleteGeneration : null
  }

  proveDeletes(generation: number): void {
    if (generation <= this.provenDeleteGeneration) return
    this.provenDeleteGeneration = Math.min(generation, this.deleteGeneration)
    this.changed()
  }

  get durable(): boolean {
    return this.pendingDeleteGeneration === null && dominates(this.acked, this.target)
  }

  /** Resolves once everything local so far is durable; later changes do not delay it. */
  whenDurable(): Promise<void> {
    if (this.destroyed) return Promise.reject(new ClientError('destroyed', 'the provider was destroyed'))
    if (this.durable) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target: new Map(this.target), deleteGeneration: this.deleteGeneration, resolve, reject })
    })
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(new ClientError('destroyed', 'the provider was destroyed before its changes were durable'))
  }

  private changed(): void {
    if (this.destroyed) return
    if (this.waiters.length > 0) {
      const still: Waiter[] = []
      for (const w of this.waiters) {
        if (this.provenDeleteGeneration >= w.deleteGeneration && dominates(this.acked, w.target)) w.resolve()
        else still.push(w)
      }
      this.waiters = still
    }
    const now = this.durable
    if (now !== this.last) {
      this.last = now
      this.onChange(now)
    }
  }
}
