/**
 * Monotonic per-peer byte and message totals for Prometheus counters.
 *
 * Why this exists: a PeerLink's counters start at zero with every session,
 * and a relay has two sessions per peer (the link it dialed, carrying its
 * deltas, and the link the peer dialed, carrying the peer's). A counter
 * exported straight from them would go backwards on every reconnect and
 * miss one direction. Here every session's counters are read as differences
 * since the last look and added to per-region totals that only grow.
 */
import type { LinkCounters } from '../mesh/peer-link.js'

/** The part of a PeerSession the totals read (PeerSession satisfies it). */
export interface PeerLinkView {
  readonly peerRegion: string
  readonly link: { readonly counters: LinkCounters; readonly open: boolean }
}

export type LinkTotals = LinkCounters

const FIELDS: readonly (keyof LinkCounters)[] = [
  'framesOut', 'framesIn', 'wireBytesOut', 'wireBytesIn', 'rawUpdateBytesOut', 'rawUpdateBytesIn', 'deltasOut', 'deltasIn',
]

/** Above this many tracked sessions, closed ones are folded in at once so a flapping link cannot grow memory. */
const MAX_TRACKED = 64

const zero = (): LinkCounters => ({
  framesOut: 0, framesIn: 0, wireBytesOut: 0, wireBytesIn: 0, rawUpdateBytesOut: 0, rawUpdateBytesIn: 0, deltasOut: 0, deltasIn: 0,
})

export class LinkTotalsTracker {
  /** Last values read from each live session's counters, keyed by the session. */
  private readonly seen = new Map<PeerLinkView, LinkCounters>()
  private readonly totals = new Map<string, LinkCounters>()

  /**
   * Starts following a session as soon as it opens, so that the bytes of a
   * session that opens and closes between two scrapes are not lost.
   */
  track(session: PeerLinkView): void {
    if (this.seen.has(session)) return
    this.seen.set(session, zero())
    if (this.seen.size > MAX_TRACKED) this.refresh([])
  }

  /**
   * Folds the growth of every known session (tracked ones plus `current`)
   * into the totals, then forgets sessions whose link has closed: their
   * counters cannot change any more.
   */
  refresh(current: Iterable<PeerLinkView>): void {
    for (const session of current) this.track(session)
    for (const [session, last] of this.seen) {
      const now = session.link.counters
      const total = this.totalFor(session.peerRegion)
      for (const field of FIELDS) {
        const grown = now[field] - last[field]
        if (grown > 0) total[field] += grown
        last[field] = now[field]
      }
      if (!session.link.open) this.seen.delete(session)
    }
  }

  /** Totals by peer region since this tracker was created. */
  byRegion(): ReadonlyMap<string, Readonly<LinkTotals>> {
    return this.totals
  }

  clear(): void {
    this.seen.clear()
    this.totals.clear()
  }

  private totalFor(region: string): LinkCounters {
    let total = this.totals.get(region)
    if (!total) {
      total = zero()
      this.totals.set(region, total)
    }
    return total
  }
}
