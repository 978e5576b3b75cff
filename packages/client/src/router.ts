/**
 * Which region to talk to: the ranking (a pinned preference, else measured
 * round-trip time, else the order given), the regions the document's policy
 * allows, per-region failure counts, and the hysteresis that decides when a
 * better region that recovered is worth moving back to. Pure bookkeeping: no
 * timers or sockets, so every decision is unit-testable.
 */
export interface RegionEndpoint {
  /** Region name as the relays know it (`eu`). */
  region: string
  /** WebSocket base URL of the region's relay (`wss://eu.example`); the document name is appended. */
  url: string
  /** Where to measure the round trip; default: `/healthz` on the same host over http(s). */
  healthUrl?: string
}

interface RegionState {
  endpoint: RegionEndpoint
  index: number
  /** Smallest round trip measured, null while unmeasured or unreachable. */
  rtt: number | null
  failures: number
  healthyStreak: number
  /** Refused service (storage failing); skipped while another region can serve. */
  down: boolean
}

export interface ReturnPolicy {
  /** Consecutive healthy checks a better region needs before we move back to it. */
  healthyChecks: number
  /** Least time spent in a region before moving away from it for a better one. */
  minDwellMs: number
}

export class RegionRouter {
  private readonly states: RegionState[]
  private allowed: Set<string> | null = null

  constructor(
    endpoints: readonly RegionEndpoint[],
    private readonly pinned: string | null,
  ) {
    this.states = endpoints.map((endpoint, index) => ({ endpoint, index, rtt: null, failures: 0, healthyStreak: 0, down: false }))
  }

  get endpoints(): RegionEndpoint[] {
    return this.states.map((s) => s.endpoint)
  }

  endpoint(region: string): RegionEndpoint | null {
    return this.state(region)?.endpoint ?? null
  }

  isAllowed(region: string): boolean {
    return this.allowed === null || this.allowed.has(region)
  }

  /** Allowed regions, best first. */
  ranking(): RegionEndpoint[] {
    return this.states
      .filter((s) => this.isAllowed(s.endpoint.region))
      .sort((a, b) => this.compare(a, b))
      .map((s) => s.endpoint)
  }

  private compare(a: RegionState, b: RegionState): number {
    if (this.pinned !== null) {
      if (a.endpoint.region === this.pinned && b.endpoint.region !== this.pinned) return -1
      if (b.endpoint.region === this.pinned && a.endpoint.region !== this.pinned) return 1
    }
    if (a.rtt !== null && b.rtt !== null && a.rtt !== b.rtt) return a.rtt - b.rtt
    if (a.rtt !== null && b.rtt === null) return -1
    if (a.rtt === null && b.rtt !== null) return 1
    return a.index - b.index
  }

  /** The allowed region to use when nothing else is known: best ranked that is not down. */
  best(): RegionEndpoint | null {
    const ranked = this.ranking()
    return ranked.find((e) => !this.state(e.region)!.down) ?? ranked[0] ?? null
  }

  /** The region to fail over to from `region`: the next allowed one in rank order, wrapping, preferring any that is not down. */
  after(region: string): RegionEndpoint | null {
    const ranked = this.ranking()
    const at = ranked.findIndex((e) => e.region === region)
    const rotated = at < 0 ? ranked : [...ranked.slice(at + 1), ...ranked.slice(0, at)]
    return rotated.find((e) => !this.state(e.region)!.down) ?? rotated[0] ?? null
  }

  setRtt(region: string, rtt: number | null): void {
    const s = this.state(region)
    if (!s || rtt === null) return
    s.rtt = s.rtt === null ? rtt : Math.min(s.rtt, rtt)
  }

  hasRtt(region: string): boolean {
    return this.state(region)?.rtt != null
  }

  /**
   * The policy's list of regions that may serve the document ('*' for all).
   * Returns false when none of the configured regions is in it.
   */
  restrict(regions: readonly string[]): boolean {
    this.allowed = regions.includes('*') ? null : new Set(regions)
    return this.ranking().length > 0
  }

  /** A refusal that named no regions: at least never ask this one again. */
  exclude(region: string): boolean {
    const rest = this.states.map((s) => s.endpoint.region).filter((r) => r !== region && this.isAllowed(r))
    this.allowed = new Set(rest)
    return rest.length > 0
  }

  /**
   * A connection to `region` failed. Its healthy streak ends too: health
   * checks that passed before the failure say nothing about after it, and a
   * stale streak would pull us back after a single check.
   */
  noteFailure(region: string): number {
    const s = this.state(region)
    if (!s) return 0
    s.failures++
    s.healthyStreak = 0
    return s.failures
  }

  /**
   * Synced with `region`: it is the current one now. Its streak starts over,
   * so that after the next failover it must earn its return again.
   */
  noteSynced(region: string): void {
    const s = this.state(region)
    if (!s) return
    s.failures = 0
    s.down = false
    s.healthyStreak = 0
  }

  resetFailures(region: string): void {
    const s = this.state(region)
    if (s) s.failures = 0
  }

  markDown(region: string): void {
    const s = this.state(region)
    if (!s) return
    s.down = true
    s.healthyStreak = 0
  }

  isDown(region: string): boolean {
    return this.state(region)?.down ?? false
  }

  /** One health check's outcome. A failed check resets the streak: that is the hysteresis. */
  recordHealth(region: string, healthy: boolean, policy: ReturnPolicy): void {
    const s = this.state(region)
    if (!s) return
    if (!healthy) {
      s.healthyStreak = 0
      return
    }
    s.healthyStreak++
    if (s.healthyStreak >= policy.healthyChecks) s.down = false
  }

  /**
   * Regions a health round should check while connected to `current`:
   * better-ranked ones, and (when ranking by round trip) unmeasured ones,
   * which may turn out better once measured.
   */
  healthTargets(current: string, includeUnmeasured = true): RegionEndpoint[] {
    const ranked = this.ranking()
    const at = ranked.findIndex((e) => e.region === current)
    const better = at < 0 ? ranked : ranked.slice(0, at)
    if (!includeUnmeasured) return better
    const unmeasured = ranked.filter((e) => e.region !== current && !this.hasRtt(e.region) && !better.includes(e))
    return [...better, ...unmeasured]
  }

  /**
   * A better-ranked region that has been healthy long enough to move back to,
   * or null. `connectedSince` is when we settled in `current`.
   */
  returnCandidate(current: string, now: number, connectedSince: number, policy: ReturnPolicy): RegionEndpoint | null {
    if (now - connectedSince < policy.minDwellMs) return null
    for (const endpoint of this.ranking()) {
      if (endpoint.region === current) return null
      const s = this.state(endpoint.region)!
      if (!s.down && s.healthyStreak >= policy.healthyChecks) return endpoint
    }
    return null
  }

  private state(region: string): RegionState | undefined {
    return this.states.find((s) => s.endpoint.region === region)
  }
}
