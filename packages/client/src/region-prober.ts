/**
 * Checks of regions: once for all of them to rank them by round trip at
 * start (when ranking by round trip), then, while connected to a region that
 * is not the best, a periodic health round over the better (and the
 * unmeasured) ones, feeding the router's hysteresis. Health rounds run
 * without round-trip ranking too: returning to the preferred region needs to
 * know it is healthy, not how near it is. Owns its timer and aborts its
 * requests on destroy.
 */
import type { RegionRouter, RegionEndpoint, ReturnPolicy } from './router.js'
import { probe, type MeasureRtt } from './rtt.js'
import { TimerSet } from './timers.js'

export interface ProberOptions {
  probeTimeoutMs: number
  healthCheckIntervalMs: number
  returnPolicy: ReturnPolicy
}

export class RegionProber {
  private readonly timers = new TimerSet()
  private readonly aborts = new AbortController()
  /** Bumped by every watch and stop, so a round that outlives its watch is ignored. */
  private watchSeq = 0

  /**
   * `rank` measures round trips to order regions (null: keep the list order);
   * `check` is the health check of the periodic rounds.
   */
  constructor(
    private readonly router: RegionRouter,
    private readonly rank: MeasureRtt | null,
    private readonly check: MeasureRtt,
    private readonly options: ProberOptions,
    private readonly report: (region: string, healthy: boolean, rttMs: number | null) => void,
  ) {}

  /** Measures every region once; resolves when all answered or timed out. */
  async rankAll(): Promise<void> {
    const rank = this.rank
    if (!rank) return
    await Promise.all(
      this.router.endpoints.map(async (endpoint) => {
        const rtt = await probe(rank, endpoint, this.options.probeTimeoutMs, this.aborts.signal)
        if (this.aborts.signal.aborted) return
        this.router.setRtt(endpoint.region, rtt)
        this.report(endpoint.region, rtt !== null, rtt)
      }),
    )
  }

  /** While connected to `region` since `since`, calls `onBetter` once a better region has earned a return. */
  watch(region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): void {
    this.stop()
    this.schedule(this.watchSeq, region, since, onBetter)
  }

  stop(): void {
    this.watchSeq++
    this.timers.clearAll()
  }

  destroy(): void {
    this.stop()
    this.aborts.abort()
  }

  private targets(region: string): RegionEndpoint[] {
    return this.router.healthTargets(region, this.rank !== null)
  }

  private schedule(seq: number, region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): void {
    if (this.targets(region).length === 0) return
    this.timers.set('round', this.options.healthCheckIntervalMs, () => void this.round(seq, region, since, onBetter))
  }

  private async round(seq: number, region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): Promise<void> {
    const targets = this.targets(region)
    const results = await Promise.all(targets.map((e) => probe(this.check, e, this.options.probeTimeoutMs, this.aborts.signal)))
    if (seq !== this.watchSeq) return
    targets.forEach((e, i) => {
      const rtt = results[i] ?? null
      // Without round-trip ranking the list order stands; a check only says healthy or not.
      if (this.rank !== null) this.router.setRtt(e.region, rtt)
      this.router.recordHealth(e.region, rtt !== null, this.options.returnPolicy)
      this.report(e.region, rtt !== null, rtt)
    })
    const better = this.router.returnCandidate(region, Date.now(), since, this.options.returnPolicy)
    if (better) onBetter(better)
    else this.schedule(seq, region, since, onBetter)
  }
}
