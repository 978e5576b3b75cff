/**
 * The dialer's record of frames awaiting an ack on one link. Each frame gets
 * a mark; what it covers of the change feed (or null) is remembered, and the
 * cursor may move only over the acknowledged prefix. Acks are per mark, so a
 * lost or reordered frame can never be covered by the ack of a later one.
 */
interface Pending {
  covered: number | null
  acked: boolean
  sentAt: number
}

export class MarkTracker {
  private next = 1
  private readonly pending = new Map<number, Pending>()

  constructor(private readonly now: () => number = Date.now) {}

  /** A new mark for a frame about to be sent; `covered` is the feed seq it completes, if any. */
  issue(covered: number | null): number {
    const mark = this.next++
    this.pending.set(mark, { covered, acked: false, sentAt: this.now() })
    return mark
  }

  /**
   * Records an ack; returns the highest feed seq the acknowledged prefix
   * covers (null when it covers none). Unknown marks (duplicates, or from
   * before a reconnect) are ignored.
   */
  ack(mark: number): number | null {
    const entry = this.pending.get(mark)
    if (!entry) return null
    entry.acked = true
    let covered: number | null = null
    for (const [m, e] of this.pending) {
      if (!e.acked) break
      if (e.covered !== null) covered = Math.max(covered ?? 0, e.covered)
      this.pending.delete(m)
    }
    return covered
  }

  get outstanding(): number {
    return this.pending.size
  }

  /** How long the oldest unacknowledged frame has waited, or 0. */
  oldestWaitMs(): number {
    for (const e of this.pending.values()) if (!e.acked) return this.now() - e.sentAt
    return 0
  }

  clear(): void {
    this.pending.clear()
  }
}
