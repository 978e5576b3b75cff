/**
 * Pending deltas for one peer region, one entry per document. Updates to the
 * same document coalesce (linear-cost, see UpdateCoalescer in core), so a
 * slow link costs memory bounded by the documents touched, not by the number
 * of updates. Each document leaves at its policy's cadence: at the end of the
 * turn (cadence 0) or on the next tick of every `cadenceMs`.
 */
import { UpdateCoalescer } from '@meridian/core'

export interface QueuedDelta {
  doc: string
  update: Uint8Array
  originRegion: string
  originTime: number
}

interface Entry {
  coalescer: UpdateCoalescer
  originRegion: string
  originTime: number
  dueAt: number
}

/**
 * Batched documents leave on the link's shared ticks (multiples of their
 * cadence) rather than cadenceMs after each one's first update, so the
 * documents of one cadence travel together in one compressed frame.
 */
const nextTick = (now: number, cadenceMs: number): number => (cadenceMs <= 0 ? now : (Math.floor(now / cadenceMs) + 1) * cadenceMs)

export class PeerQueue {
  private readonly entries = new Map<string, Entry>()
  private bytes = 0

  get docs(): number {
    return this.entries.size
  }

  get pendingBytes(): number {
    return this.bytes
  }

  isEmpty(): boolean {
    return this.entries.size === 0
  }

  push(doc: string, update: Uint8Array, originRegion: string, originTime: number, cadenceMs: number, now: number): void {
    let entry = this.entries.get(doc)
    if (!entry) {
      entry = { coalescer: new UpdateCoalescer(), originRegion, originTime, dueAt: nextTick(now, cadenceMs) }
      this.entries.set(doc, entry)
    } else if (originTime < entry.originTime) {
      // The lag of a coalesced delta is that of its oldest part.
      entry.originRegion = originRegion
      entry.originTime = originTime
    }
    this.bytes -= entry.coalescer.pendingBytes
    entry.coalescer.push(update)
    this.bytes += entry.coalescer.pendingBytes
  }

  /** Earliest time an entry becomes due, or null when empty. */
  nextDueAt(): number | null {
    let next: number | null = null
    for (const e of this.entries.values()) if (next === null || e.dueAt < next) next = e.dueAt
    return next
  }

  /** Removes and returns every entry due by `now`, each as one merged update. */
  takeDue(now: number): QueuedDelta[] {
    const out: QueuedDelta[] = []
    for (const [doc, e] of this.entries) {
      if (e.dueAt > now) continue
      this.entries.delete(doc)
      this.bytes -= e.coalescer.pendingBytes
      const update = e.coalescer.take()
      if (update) out.push({ doc, update, originRegion: e.originRegion, originTime: e.originTime })
    }
    return out
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }
}
