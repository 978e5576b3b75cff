/**
 * Recent replication lag per sending region, for the dashboard: a fixed ring
 * of samples per region (memory stays constant however busy the link is),
 * summarised as percentiles over the last minute. Prometheus gets the full
 * distribution from the histogram; this is only what a person reads.
 */

const SAMPLES_PER_REGION = 256
const DEFAULT_WINDOW_MS = 60_000

export interface LagSummary {
  /** Samples inside the window. */
  count: number
  p50Ms: number
  p95Ms: number
  maxMs: number
}

interface Ring {
  times: Float64Array
  lags: Float64Array
  next: number
  size: number
}

export class LagWindow {
  private readonly rings = new Map<string, Ring>()

  constructor(private readonly now: () => number = Date.now) {}

  add(region: string, lagMs: number): void {
    let ring = this.rings.get(region)
    if (!ring) {
      ring = { times: new Float64Array(SAMPLES_PER_REGION), lags: new Float64Array(SAMPLES_PER_REGION), next: 0, size: 0 }
      this.rings.set(region, ring)
    }
    ring.times[ring.next] = this.now()
    ring.lags[ring.next] = lagMs
    ring.next = (ring.next + 1) % SAMPLES_PER_REGION
    ring.size = Math.min(ring.size + 1, SAMPLES_PER_REGION)
  }

  /** Percentiles of the samples from `region` newer than `windowMs`, or null when there are none. */
  summary(region: string, windowMs = DEFAULT_WINDOW_MS): LagSummary | null {
    const ring = this.rings.get(region)
    if (!ring) return null
    const since = this.now() - windowMs
    const values: number[] = []
    for (let i = 0; i < ring.size; i++) if (ring.times[i]! >= since) values.push(ring.lags[i]!)
    if (values.length === 0) return null
    values.sort((a, b) => a - b)
    // Nearest-rank percentiles: exact for the small sample counts here.
    const rank = (p: number): number => values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!
    return { count: values.length, p50Ms: rank(0.5), p95Ms: rank(0.95), maxMs: values[values.length - 1]! }
  }

  regions(): string[] {
    return [...this.rings.keys()]
  }

  clear(): void {
    this.rings.clear()
  }
}
