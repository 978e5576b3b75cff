/**
 * Round-trip checks of regions: once for all of them to rank them at start,
 * then, while connected to a region that is not the best, a periodic round
 * over the better (and the unmeasured) ones, feeding the router's hysteresis.
 * Owns its timer and aborts its requests on destroy.
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
  /** Region being watched; a round that finishes after a change of region is ignored. */
  private watching: string | null = null

  constructor(
    private readonly router: RegionRouter,
    private readonly measure: MeasureRtt | null,
    private readonly options: ProberOptions,
    private readonly report: (region: string, rttMs: number | null) => void,
  ) {}

  /** Measures every region once; resolves when all answered or timed out. */
  async rankAll(): Promise<void> {
    if (!this.measure) return
    await Promise.all(this.router.endpoints.map((e) => this.check(e)))
  }

  /** While connected to `region` since `since`, calls `onBetter` once a better region has earned a return. */
  watch(region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): void {
    this.watching = region
    this.schedule(region, since, onBetter)
  }

  stop(): void {
    this.watching = null
    this.timers.clearAll()
  }

  destroy(): void {
    this.stop()
    this.aborts.abort()
  }

  private schedule(region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): void {
    if (!this.measure || this.router.healthTargets(region).length === 0) return
    this.timers.set('round', this.options.healthCheckIntervalMs, () => void this.round(region, since, onBetter))
  }

  private async round(region: string, since: number, onBetter: (endpoint: RegionEndpoint) => void): Promise<void> {
    const targets = this.router.healthTargets(region)
    const results = await Promise.all(targets.map((e) => probe(this.measure!, e, this.options.probeTimeoutMs, this.aborts.signal)))
    if (this.watching !== region) return
    targets.forEach((e, i) => {
      this.router.recordHealth(e.region, results[i] ?? null, this.options.returnPolicy)
      this.report(e.region, results[i] ?? null)
    })
    const better = this.router.returnCandidate(region, Date.now(), since, this.options.returnPolicy)
    if (better) onBetter(better)
    else this.schedule(region, since, onBetter)
  }

  private async check(endpoint: RegionEndpoint): Promise<void> {
    const rtt = await probe(this.measure!, endpoint, this.options.probeTimeoutMs, this.aborts.signal)
    if (this.aborts.signal.aborted) return
    this.router.setRtt(endpoint.region, rtt)
    this.report(endpoint.region, rtt)
  }
}
