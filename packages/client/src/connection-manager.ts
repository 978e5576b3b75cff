/**
 * Keeps one session open to the best region it can: ranks regions by round
 * trip, retries with backoff, fails over after repeated failures, follows
 * wrong-region refusals, and moves back to a better region once it has been
 * healthy for a while (hysteresis). Owns every timer and probe it starts.
 */
import type * as Y from 'yjs'
import type { StateVector } from '@meridian/core'
import { backoffDelay, longestBackoffDelay } from './backoff.js'
import { classifyClose } from './close-policy.js'
import { ClientError } from './errors.js'
import type { ProviderStatus, RegionChangeReason } from './events.js'
import type { ResolvedOptions } from './options.js'
import { RegionProber } from './region-prober.js'
import { RegionRouter, type RegionEndpoint } from './router.js'
import { measureHealthz } from './rtt.js'
import { Session, type SessionClose } from './session.js'
import type { WebSocketConstructor } from './socket.js'
import { TimerSet } from './timers.js'
import { documentUrl, resolveToken } from './url.js'

export interface ManagerHooks {
  status(status: ProviderStatus, region: string | null): void
  regionChange(from: string | null, to: string, reason: RegionChangeReason): void
  regionHealth(region: string, healthy: boolean, rttMs: number | null): void
  relayInfo(info: { region: string; relayId: string; regions: string[] }): void
  connectionClose(region: string, code: number, reason: string): void
  synced(synced: boolean): void
  durableAck(stateVector: StateVector): void
  deletesProven(generation: number): void
  awareness(update: Uint8Array): void
  queryAwareness(): void
  /** Gave up: the connection stays down until connect() is called again. */
  fatal(err: ClientError): void
  error(err: ClientError): void
  pendingDeleteGeneration(): number | null
  localAwareness(): Uint8Array | null
}

const MAX_AUTH_RETRIES = 3

export class ConnectionManager {
  readonly router: RegionRouter
  private readonly timers = new TimerSet()
  private readonly prober: RegionProber
  private session: Session | null = null
  private target: RegionEndpoint | null = null
  private connecting = false
  private wanted = false
  private destroyed = false
  private ranked: Promise<void> | null = null
  private attemptSeq = 0
  private failuresInRow = 0
  private wrongRegionMoves = 0
  private authFailures = 0
  private lastRegion: string | null = null
  private pendingReason: RegionChangeReason = 'initial'
  private connectedSince = 0
  /** Region of the open session, null otherwise. */
  region: string | null = null
  relayId: string | null = null

  constructor(
    private readonly doc: Y.Doc,
    private readonly docName: string,
    private readonly options: ResolvedOptions,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly origin: unknown,
    private readonly hooks: ManagerHooks,
  ) {
    this.router = new RegionRouter(options.regions, options.preferredRegion)
    const m = options.measureRtt
    const rank = m === false ? null : m === true ? measureHealthz : m
    // Without ranking, health checks still run: returning to a better region needs them.
    this.prober = new RegionProber(
      this.router,
      rank,
      rank ?? measureHealthz,
      {
        probeTimeoutMs: options.probeTimeoutMs,
        healthCheckIntervalMs: options.healthCheckIntervalMs,
        returnPolicy: { healthyChecks: options.returnAfterHealthyChecks, minDwellMs: options.minRegionDwellMs },
      },
      (region, healthy, rtt) => hooks.regionHealth(region, healthy, rtt),
    )
  }

  get current(): Session | null {
    return this.session
  }

  connect(): void {
    if (this.destroyed) return
    this.wanted = true
    if (this.session || this.connecting || this.timers.has('retry')) return
    this.ranked ??= this.rankRegions()
    void this.ranked.then(() => this.attempt(this.target))
  }

  disconnect(): void {
    this.wanted = false
    this.timers.clearAll()
    this.endSession(1000, 'client disconnected')
    this.connecting = false
    this.attemptSeq++
    this.hooks.status('offline', null)
  }

  /** The network came back (browsers' 'online'): try now instead of waiting out the backoff. */
  retryNow(): void {
    if (!this.wanted || this.session || this.connecting) return
    this.timers.clear('retry')
    this.failuresInRow = 0
    void this.attempt(this.target)
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.wanted = false
    this.attemptSeq++
    this.timers.clearAll()
    this.prober.destroy()
    this.endSession(1000, 'provider destroyed')
  }

  /** Ranks regions before the first connection; a pinned region needs no wait, the others rank behind it as answers come. */
  private async rankRegions(): Promise<void> {
    const all = this.prober.rankAll()
    if (this.options.preferredRegion === null) await all
  }

  private isOffline(): boolean {
    const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator
    return nav?.onLine === false
  }

  private async attempt(preferred: RegionEndpoint | null): Promise<void> {
    if (this.destroyed || !this.wanted || this.session || this.connecting) return
    if (this.isOffline()) return this.hooks.status('offline', null)
    const endpoint = preferred && this.router.isAllowed(preferred.region) ? preferred : this.router.best()
    if (!endpoint) return this.giveUp(new ClientError('no-allowed-region', `none of the configured regions may serve ${this.docName}`))
    const seq = ++this.attemptSeq
    this.connecting = true
    this.target = endpoint
    this.hooks.status('connecting', endpoint.region)
    let token: string | null
    try {
      token = await resolveToken(this.options.token)
    } catch (cause) {
      if (seq !== this.attemptSeq) return
      this.connecting = false
      this.hooks.error(new ClientError('token-failed', 'the token function failed', { cause }))
      return this.retryLater(endpoint, this.nextDelay(), null)
    }
    if (seq !== this.attemptSeq || this.destroyed || !this.wanted) return
    this.connecting = false
    let session: Session
    try {
      session = this.openSession(endpoint, token)
    } catch (cause) {
      this.hooks.error(new ClientError('invalid-options', `cannot open a WebSocket to ${endpoint.url}`, { cause }))
      return this.retryLater(endpoint, this.nextDelay(), null)
    }
    this.session = session
  }

  private openSession(endpoint: RegionEndpoint, token: string | null): Session {
    const { durableAck, deletesProven, awareness, queryAwareness, error, pendingDeleteGeneration, localAwareness } = this.hooks
    const session: Session = new Session(
      {
        WebSocket: this.WebSocketImpl,
        url: documentUrl(endpoint, this.docName, token, this.options.params),
        doc: this.doc,
        origin: this.origin,
        connectTimeoutMs: this.options.connectTimeoutMs,
        heartbeatMs: this.options.heartbeatMs,
      },
      {
        synced: () => this.onSynced(endpoint),
        relayInfo: (info) => {
          // Advisory only: a relay expands '*' over the peers it knows, which
          // may be fewer than the regions configured here. Refusals restrict.
          this.relayId = info.relayId
          this.onAccepted(endpoint)
          this.hooks.relayInfo(info)
        },
        closed: (close) => {
          if (this.session === session) this.onClosed(endpoint, close)
        },
        ...{ durableAck, deletesProven, awareness, queryAwareness, error, pendingDeleteGeneration, localAwareness },
      },
    )
    return session
  }

  /**
   * The relay serves us (relay-info or the first sync reply, whichever comes
   * first). Not the socket's open: a relay refusing the document (wrong
   * region, auth) accepts the WebSocket and closes it at once.
   */
  private onAccepted(endpoint: RegionEndpoint): void {
    if (this.region === endpoint.region) return
    this.region = endpoint.region
    this.connectedSince = Date.now()
    if (this.lastRegion !== endpoint.region) {
      const from = this.lastRegion
      this.lastRegion = endpoint.region
      this.hooks.regionChange(from, endpoint.region, from === null ? 'initial' : this.pendingReason)
    }
    this.hooks.status('connected', endpoint.region)
  }

  private onSynced(endpoint: RegionEndpoint): void {
    this.onAccepted(endpoint)
    this.failuresInRow = 0
    this.wrongRegionMoves = 0
    this.authFailures = 0
    this.router.noteSynced(endpoint.region)
    this.hooks.status('synced', endpoint.region)
    this.hooks.synced(true)
    this.prober.watch(endpoint.region, this.connectedSince, (better) => this.moveTo(better))
  }

  private endSession(code: number, reason: string): void {
    const session = this.session
    if (!session) return
    this.session = null
    session.close(code, reason)
    this.afterSession(session.synced)
  }

  private afterSession(wasSynced: boolean): void {
    this.region = null
    this.relayId = null
    this.prober.stop()
    if (wasSynced) this.hooks.synced(false)
  }

  private onClosed(endpoint: RegionEndpoint, close: SessionClose): void {
    this.session = null
    this.afterSession(close.synced)
    this.hooks.connectionClose(endpoint.region, close.code, close.reason)
    this.hooks.status('offline', null)
    if (!this.wanted || this.destroyed) return
    const region = endpoint.region
    const action = classifyClose(close.code, close.reason, close.refusalRegions)
    switch (action.kind) {
      case 'fatal':
        return this.giveUp(new ClientError(action.code, `${region} refused the connection: ${close.code} ${close.reason}`, { closeCode: close.code }))
      case 'wrong-region': {
        const named = action.regions?.filter((r) => r !== region) ?? []
        const ok = named.length > 0 ? this.router.restrict(named) : this.router.exclude(region)
        if (!ok) return this.giveUp(new ClientError('no-allowed-region', `${this.docName} may only be served by ${action.regions?.join(',') ?? 'other regions'}, none of which is configured`, { closeCode: close.code }))
        this.wrongRegionMoves++
        // Following a refusal costs nothing; only a loop of them backs off.
        const delay = this.wrongRegionMoves <= this.router.endpoints.length ? 0 : this.nextDelay()
        return this.retryLater(this.router.best(), delay, 'wrong-region')
      }
      case 'failover':
        this.router.markDown(region)
        return this.retryLater(this.router.after(region) ?? endpoint, this.nextDelay(), 'storage-unavailable')
      case 'reauthenticate':
        this.authFailures++
        if (typeof this.options.token !== 'function' || this.authFailures > MAX_AUTH_RETRIES) {
          return this.giveUp(new ClientError('unauthorized', `${region} refused the token: ${close.reason}`, { closeCode: close.code }))
        }
        return this.retryLater(endpoint, this.nextDelay(), null)
      case 'rate-limited':
        this.failuresInRow++
        return this.retryLater(endpoint, longestBackoffDelay(this.options.backoff, this.options.random), null)
      case 'retry': {
        const failures = this.router.noteFailure(region)
        const delay = this.nextDelay()
        const next = failures >= this.options.failoverAfterAttempts ? this.router.after(region) : null
        if (next) this.router.resetFailures(next.region)
        return this.retryLater(next ?? endpoint, delay, next ? 'failover' : null)
      }
    }
  }

  private nextDelay(): number {
    return backoffDelay(this.failuresInRow++, this.options.backoff, this.options.random)
  }

  private retryLater(endpoint: RegionEndpoint | null, delayMs: number, reason: RegionChangeReason | null): void {
    this.target = endpoint
    // Reconnecting to the region we were in is no region change, so it needs no reason.
    if (endpoint && endpoint.region !== this.lastRegion) this.pendingReason = reason ?? 'failover'
    this.timers.set('retry', delayMs, () => void this.attempt(this.target))
  }

  private giveUp(err: ClientError): void {
    this.wanted = false
    this.timers.clearAll()
    this.hooks.status('offline', null)
    this.hooks.fatal(err)
  }

  /** A better region earned a return: leave this one for it at once. */
  private moveTo(better: RegionEndpoint): void {
    if (!this.session || this.destroyed) return
    this.endSession(1000, `moving to ${better.region}`)
    this.failuresInRow = 0
    this.pendingReason = 'preferred-healthy'
    this.target = better
    void this.attempt(better)
  }
}
