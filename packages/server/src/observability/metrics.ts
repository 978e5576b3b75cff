/**
 * Prometheus metrics of one relay, on a registry of its own: tests and the
 * dev cluster run several relays in one process, and prom-client's global
 * registry would mix their series (or refuse the second registration).
 *
 * Three kinds of input, so that the hot paths stay cheap:
 * - events the relay and the mesh report (MeshObserver, `updateApplied`,
 *   `clientClosed`, ...): counters and histograms with label children bound
 *   once, so an observation costs no label hashing;
 * - state read on scrape from `collect(source)`: gauges of documents,
 *   connections, peer link state and backlog (mesh.health()), so nothing
 *   has to be pushed as it changes;
 * - per-peer byte counters folded from the links' counters on scrape
 *   (LinkTotalsTracker keeps them monotonic across reconnects).
 *
 * Replication lag is `now - originTime` on the receiving relay: it assumes
 * relay wall clocks are NTP-synced, and includes whatever skew remains.
 * A negative lag (the sender's clock ahead) is observed as 0 and counted in
 * meridian_replication_negative_lag_total, so skew is visible, not hidden.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { CloseCode } from '@meridian/core'
import type { HealthReport } from '../http/health.js'
import type { MeshObserver } from '../mesh/mesh-context.js'
import type { MessageSocket } from '../transport/socket.js'
import { LinkTotalsTracker, type LinkTotals, type PeerLinkView } from './link-totals.js'
import { LagWindow, type LagSummary } from './lag-window.js'
import { defineScrapeMetrics } from './scrape-metrics.js'
import { HOSTILE_CLIENT_CODES, closeLabel, isHostileClientClose, watchProtocolErrors, type HostileSource } from './hostile-input.js'

/** What the relay exposes for scrape-time gauges; `Relay` satisfies it as is. */
export interface MetricsSource {
  health(): HealthReport
  readonly mesh?: { sessions(): Iterable<PeerLinkView> } | null
}

export interface RelayMetricsOptions {
  /**
   * Also register prom-client's process metrics (CPU, memory, event-loop
   * delay, GC; standard unprefixed names). Their collectors install process
   * hooks that cannot be removed, so only a process that runs a single relay
   * (the CLI) should turn this on.
   */
  processMetrics?: boolean
  /** Clock for the dashboard's lag window (tests). */
  now?: () => number
}

export type AppliedOrigin = 'client' | 'peer' | 'storage'
type NotForwardedReason = Parameters<NonNullable<MeshObserver['deltaNotForwarded']>>[0]

const LAG_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
const PERSIST_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const CATCHUP_DOC_BUCKETS = [0, 1, 10, 100, 1_000, 10_000, 100_000]
const CATCHUP_BYTE_BUCKETS = [0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]
const ORIGINS: readonly AppliedOrigin[] = ['client', 'peer', 'storage']
const NOT_FORWARDED: readonly NotForwardedReason[] = ['no-change', 'origin', 'policy']

export class RelayMetrics implements Required<MeshObserver> {
  readonly registry = new Registry()
  private source: MetricsSource | null = null
  /** health() read once per scrape and shared by every gauge of that scrape. */
  private tick: HealthReport | null = null
  private readonly links = new LinkTotalsTracker()
  private readonly lagWindow: LagWindow
  private closed = false

  private readonly lag: Histogram<'peer_region' | 'origin_region'>
  private readonly negativeLag: Counter<'peer_region'>
  private readonly applied: Counter<'origin'>
  private readonly appliedBytes: Counter<'origin'>
  private readonly appliedBy: Record<AppliedOrigin, { count: Counter.Internal; bytes: Counter.Internal }>
  private readonly notForwarded: Record<NotForwardedReason, Counter.Internal>
  private readonly persist: Histogram
  private readonly persistFailures: Counter
  private readonly compactions: Counter<'result'>
  private readonly evictions: Counter
  private readonly policyDenials: Counter<'source' | 'peer_region'>
  private readonly authFailures: Counter<'reason'>
  private readonly clientCloses: Counter<'code'>
  private readonly readOnlyWrites: Counter
  private readonly catchupRuns: Counter<'peer_region'>
  private readonly catchupDocs: Histogram<'peer_region'>
  private readonly catchupBytes: Histogram<'peer_region'>
  private readonly hostileCloses: Counter<'source' | 'code'>

  constructor(options: RelayMetricsOptions = {}) {
    this.lagWindow = new LagWindow(options.now)
    const registers = [this.registry]
    this.lag = new Histogram({ name: 'meridian_replication_lag_seconds', help: 'Time from acceptance at the origin relay to arrival here, per sending peer (assumes NTP-synced clocks; includes skew)', labelNames: ['peer_region', 'origin_region'], buckets: LAG_BUCKETS_S, registers })
    this.negativeLag = new Counter({ name: 'meridian_replication_negative_lag_total', help: 'Deltas stamped later than their arrival here (the sender clock is ahead); observed as lag 0', labelNames: ['peer_region'], registers })
    this.applied = new Counter({ name: 'meridian_updates_applied_total', help: 'Updates that changed a document, by where they came from', labelNames: ['origin'], registers })
    this.appliedBytes = new Counter({ name: 'meridian_update_bytes_applied_total', help: 'Bytes of updates that changed a document, by where they came from', labelNames: ['origin'], registers })
    this.appliedBy = Object.fromEntries(ORIGINS.map((o) => [o, { count: this.applied.labels(o), bytes: this.appliedBytes.labels(o) }])) as RelayMetrics['appliedBy']
    const notForwarded = new Counter({ name: 'meridian_deltas_not_forwarded_total', help: 'Per peer link, updates not sent on: no-change (a delivery that added nothing), origin (came from a peer; the origin sends it everywhere), policy (placement excludes the peer region)', labelNames: ['reason'], registers })
    this.notForwarded = Object.fromEntries(NOT_FORWARDED.map((r) => [r, notForwarded.labels(r)])) as RelayMetrics['notForwarded']
    this.persist = new Histogram({ name: 'meridian_persist_duration_seconds', help: 'From handing a merged update to group commit until it is durable', buckets: PERSIST_BUCKETS_S, registers })
    this.persistFailures = new Counter({ name: 'meridian_persist_failures_total', help: 'Updates whose persistence failed (storage is then failed for good)', registers })
    this.compactions = new Counter({ name: 'meridian_compactions_total', help: 'Document log compactions into a snapshot, by result', labelNames: ['result'], registers })
    this.evictions = new Counter({ name: 'meridian_documents_evicted_total', help: 'Documents dropped from memory (idle for idleEvictMs, or reloaded after a rejected update)', registers })
    this.policyDenials = new Counter({ name: 'meridian_policy_denials_total', help: 'Documents refused because this region may not hold them: source=peer (a peer sent one), source=client (a client asked the wrong region)', labelNames: ['source', 'peer_region'], registers })
    this.authFailures = new Counter({ name: 'meridian_auth_failures_total', help: 'Client connections refused by token checks, by close code name', labelNames: ['reason'], registers })
    this.clientCloses = new Counter({ name: 'meridian_client_closes_total', help: 'Client connections closed by the relay or its WebSocket layer, by close code name', labelNames: ['code'], registers })
    this.hostileCloses = new Counter({ name: 'meridian_hostile_input_closes_total', help: 'Connections closed because of what the other end sent (undecodable, invalid, oversized or flooding input), by source (client, peer) and close code name', labelNames: ['source', 'code'], registers })
    this.readOnlyWrites = new Counter({ name: 'meridian_read_only_writes_dropped_total', help: 'Updates from read-only connections that were dropped', registers })
    this.catchupRuns = new Counter({ name: 'meridian_catchup_runs_total', help: 'Catch-up runs this relay drove toward a peer after (re)connecting', labelNames: ['peer_region'], registers })
    this.catchupDocs = new Histogram({ name: 'meridian_catchup_documents', help: 'Documents exchanged per catch-up run', labelNames: ['peer_region'], buckets: CATCHUP_DOC_BUCKETS, registers })
    this.catchupBytes = new Histogram({ name: 'meridian_catchup_bytes', help: 'Bytes on the link (both directions) per catch-up run', labelNames: ['peer_region'], buckets: CATCHUP_BYTE_BUCKETS, registers })
    // Known label sets start at 0, so rate() and absent-series alerts work from the first scrape.
    for (const o of ORIGINS) {
      this.appliedBy[o].count.inc(0)
      this.appliedBy[o].bytes.inc(0)
    }
    for (const r of NOT_FORWARDED) this.notForwarded[r].inc(0)
    for (const result of ['ok', 'failed']) this.compactions.inc({ result }, 0)
    this.readOnlyWrites.inc(0)
    for (const code of HOSTILE_CLIENT_CODES) this.hostileCloses.inc({ source: 'client', code: closeLabel(code) }, 0)
    this.hostileCloses.inc({ source: 'peer', code: closeLabel(CloseCode.MalformedMessage) }, 0)
    this.persistFailures.inc(0)
    defineScrapeMetrics(this.registry, () => this.snapshot(), this.links)
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry })
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** From now on, scrape-time gauges read `source` (one health() call per scrape). */
  collect(source: MetricsSource): void {
    if (!this.closed) this.source = source
  }

  /** The exposition text (what GET /metrics serves). */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  // ---- MeshObserver ------------------------------------------------------------

  readonly replicationLag = (fromRegion: string, originRegion: string, lagMs: number): void => {
    if (lagMs < 0) this.negativeLag.inc({ peer_region: fromRegion })
    const clamped = Math.max(0, lagMs)
    this.lag.observe({ peer_region: fromRegion, origin_region: originRegion }, clamped / 1000)
    this.lagWindow.add(fromRegion, clamped)
  }

  readonly deltaNotForwarded = (reason: NotForwardedReason): void => {
    this.notForwarded[reason]?.inc()
  }

  readonly policyDenied = (peerRegion: string): void => {
    this.policyDenials.inc({ source: 'peer', peer_region: peerRegion })
  }

  readonly catchupRun = (peerRegion: string, docs: number, bytes?: number): void => {
    this.catchupRuns.inc({ peer_region: peerRegion })
    this.catchupDocs.observe({ peer_region: peerRegion }, docs)
    if (bytes !== undefined && bytes >= 0) this.catchupBytes.observe({ peer_region: peerRegion }, bytes)
  }

  /**
   * No peer_region label: a peer that fails before its hello names any
   * region it likes, and labels must not be chosen by the other end.
   */
  readonly peerHostileInput = (_peerRegion: string, code: number): void => {
    this.hostileInput('peer', code)
  }

  // ---- relay hooks -------------------------------------------------------------

  /** An update changed a document (DocRegistry.onEffectiveUpdate; 'storage' for loads). */
  readonly updateApplied = (origin: AppliedOrigin, bytes = 0): void => {
    const c = this.appliedBy[origin]
    if (!c) return
    c.count.inc()
    if (bytes > 0) c.bytes.inc(bytes)
  }

  /**
   * The relay closed a client connection with this code (number or
   * close-code name); the hostile-input counter follows from the code.
   */
  readonly clientClosed = (code: number | string): void => {
    this.clientCloses.inc({ code: closeLabel(code) })
    if (isHostileClientClose(code)) this.hostileInput('client', code)
  }

  /** A token was refused; `code` is the close code (Unauthorized or Forbidden), never the token error text. */
  readonly authFailure = (code: number): void => {
    this.authFailures.inc({ reason: closeLabel(code) })
  }

  /**
   * Counts the closes the `ws` layer makes on its own (frame over
   * maxMessageBytes: 1009; protocol violations: 1002, 1007), which the
   * relay's code never sees. Call once per accepted socket.
   */
  readonly watchSocket = (socket: MessageSocket, source: HostileSource): void => {
    watchProtocolErrors(socket, (code) => {
      if (this.closed) return
      if (source === 'client') this.clientCloses.inc({ code: closeLabel(code) })
      this.hostileInput(source, code)
    })
  }

  private hostileInput(source: HostileSource, code: number | string): void {
    if (!this.closed) this.hostileCloses.inc({ source, code: closeLabel(code) })
  }

  /** A client asked for a document this region may not hold. */
  readonly clientWrongRegion = (): void => {
    this.policyDenials.inc({ source: 'client', peer_region: '' })
  }

  readonly readOnlyWriteDropped = (): void => {
    this.readOnlyWrites.inc()
  }

  readonly persistLatency = (ms: number): void => {
    this.persist.observe(Math.max(0, ms) / 1000)
  }

  /** Times a persistence promise; returns it unchanged, so the caller's handling of it is untouched. */
  readonly timePersist = <T>(persisting: Promise<T>): Promise<T> => {
    const started = performance.now()
    persisting.then(
      () => this.persistLatency(performance.now() - started),
      () => this.persistFailures.inc(),
    )
    return persisting
  }

  readonly documentEvicted = (): void => {
    if (!this.closed) this.evictions.inc()
  }

  readonly compaction = (ok: boolean): void => {
    this.compactions.inc({ result: ok ? 'ok' : 'failed' })
  }

  /** Follows a peer session from when it opens (wire to the mesh's 'session-open' event). */
  readonly trackPeerSession = (session: PeerLinkView): void => {
    if (!this.closed) this.links.track(session)
  }

  // ---- for the dashboard ---------------------------------------------------------

  /** Monotonic per-peer totals (both links of each peer), as of now. */
  linkTotals(): ReadonlyMap<string, Readonly<LinkTotals>> {
    this.links.refresh(this.source?.mesh?.sessions() ?? [])
    return this.links.byRegion()
  }

  /** Lag percentiles of deltas received from `peerRegion` over the last minute. */
  lagSummary(peerRegion: string): LagSummary | null {
    return this.lagWindow.summary(peerRegion)
  }

  /** Idempotent: drops the registry's metrics and everything the collectors hold. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.source = null
    this.tick = null
    this.registry.clear()
    this.links.clear()
    this.lagWindow.clear()
  }

  // ---- scrape-time collection ------------------------------------------------------

  /**
   * The health report of the scrape in progress. prom-client collects every
   * metric of one scrape in the same synchronous run, so a report cached
   * until the next microtask is read once per scrape, not once per gauge.
   */
  private snapshot(): HealthReport | null {
    if (!this.source) return null
    if (!this.tick) {
      this.tick = this.source.health()
      this.links.refresh(this.source.mesh?.sessions() ?? [])
      queueMicrotask(() => (this.tick = null))
    }
    return this.tick
  }
}

export const createRelayMetrics = (options: RelayMetricsOptions = {}): RelayMetrics => new RelayMetrics(options)

/** One observer that forwards to several (metrics plus a test's or the simulator's). */
export const combineObservers = (...observers: MeshObserver[]): MeshObserver => ({
  replicationLag: (a, b, lag) => { for (const o of observers) o.replicationLag?.(a, b, lag) },
  deltaNotForwarded: (reason) => { for (const o of observers) o.deltaNotForwarded?.(reason) },
  policyDenied: (region) => { for (const o of observers) o.policyDenied?.(region) },
  catchupRun: (region, docs, bytes) => { for (const o of observers) o.catchupRun?.(region, docs, bytes) },
  peerHostileInput: (region, code) => { for (const o of observers) o.peerHostileInput?.(region, code) },
})
