/**
 * Provider options, their defaults, and the one place that checks them.
 */
import type { Awareness } from 'y-protocols/awareness'
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
import { ClientError } from './errors.js'
import type { LocalPersistence } from './persistence/types.js'
import type { RegionEndpoint } from './router.js'
import type { MeasureRtt } from './rtt.js'
import type { WebSocketConstructor } from './socket.js'

export type TokenSource = string | (() => string | Promise<string>)

export interface MeridianProviderOptions {
  /** The regions' relays. Order breaks ties between equally near regions. */
  regions: RegionEndpoint[]
  /** Sent as `?token=`. A function is called before every connection attempt, so it can refresh. */
  token?: TokenSource
  /** Extra query parameters for every connection. */
  params?: Record<string, string>
  /** WebSocket implementation where there is no global one (Node 20: the `ws` package). */
  WebSocketPolyfill?: WebSocketConstructor
  /** Connect at once (default true); otherwise call `connect()`. */
  connect?: boolean
  /** Use this Awareness instead of creating one (it is then not destroyed with the provider). */
  awareness?: Awareness
  /**
   * Where the document is kept across reloads and while offline. Default:
   * IndexedDB where it exists (browsers), nothing elsewhere. `false` turns it
   * off; in Node pass `new FilePersistence(path)` from `@meridian/client/node`.
   */
  persistence?: boolean | LocalPersistence
  /** Always prefer this region (when allowed and healthy) instead of the nearest. */
  preferredRegion?: string
  /** Measure round trips to rank regions (default: GET /healthz); false keeps the given order. */
  measureRtt?: boolean | MeasureRtt
  /** Deadline of one round-trip measurement or health check. */
  probeTimeoutMs?: number
  backoff?: Partial<BackoffOptions>
  /** Failed attempts in a row on one region before moving to the next. */
  failoverAfterAttempts?: number
  connectTimeoutMs?: number
  /** Inbound silence after which the provider asks the relay for a reply; as long again without any message closes the connection. */
  heartbeatMs?: number
  /** While away from the best region, how often to check whether it is back. */
  healthCheckIntervalMs?: number
  /** Consecutive healthy checks before moving back to a better region. */
  returnAfterHealthyChecks?: number
  /** Least time to stay in a region before moving back to a better one. */
  minRegionDwellMs?: number
  /** Updates appended to local persistence before it is compacted into one. */
  compactAfterUpdates?: number
  /** Recovered errors (also emitted as 'error'). */
  onError?: (err: Error) => void
  /** Source of randomness for backoff jitter (tests make it deterministic). */
  random?: () => number
}

export interface ResolvedOptions {
  regions: RegionEndpoint[]
  token: TokenSource | undefined
  params: Record<string, string>
  WebSocketPolyfill: WebSocketConstructor | undefined
  connect: boolean
  persistence: boolean | LocalPersistence
  preferredRegion: string | null
  measureRtt: boolean | MeasureRtt
  probeTimeoutMs: number
  backoff: BackoffOptions
  failoverAfterAttempts: number
  connectTimeoutMs: number
  heartbeatMs: number
  healthCheckIntervalMs: number
  returnAfterHealthyChecks: number
  minRegionDwellMs: number
  compactAfterUpdates: number
  onError: ((err: Error) => void) | undefined
  random: () => number
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) throw new ClientError('invalid-options', `${name} must be a positive number, got ${String(value)}`)
  return v
}

export function resolveOptions(input: MeridianProviderOptions): ResolvedOptions {
  if (!input || !Array.isArray(input.regions) || input.regions.length === 0) {
    throw new ClientError('invalid-options', 'regions must list at least one { region, url }')
  }
  const seen = new Set<string>()
  for (const r of input.regions) {
    if (!r || typeof r.region !== 'string' || r.region === '' || typeof r.url !== 'string') {
      throw new ClientError('invalid-options', 'every entry of regions needs a region name and a url')
    }
    if (seen.has(r.region)) throw new ClientError('invalid-options', `region ${r.region} is listed twice`)
    seen.add(r.region)
    try {
      const url = new URL(r.url)
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('not ws: or wss:')
    } catch (cause) {
      throw new ClientError('invalid-options', `region ${r.region}: url ${r.url} is not a ws:// or wss:// URL`, { cause })
    }
  }
  if (input.preferredRegion !== undefined && !seen.has(input.preferredRegion)) {
    throw new ClientError('invalid-options', `preferredRegion ${input.preferredRegion} is not among the regions`)
  }
  const backoff: BackoffOptions = {
    initialMs: positive('backoff.initialMs', input.backoff?.initialMs, DEFAULT_BACKOFF.initialMs),
    maxMs: positive('backoff.maxMs', input.backoff?.maxMs, DEFAULT_BACKOFF.maxMs),
    multiplier: positive('backoff.multiplier', input.backoff?.multiplier, DEFAULT_BACKOFF.multiplier),
  }
  if (backoff.maxMs < backoff.initialMs) throw new ClientError('invalid-options', 'backoff.maxMs must be at least backoff.initialMs')
  return {
    regions: input.regions.map((r) => ({ ...r })),
    token: input.token,
    params: { ...(input.params ?? {}) },
    WebSocketPolyfill: input.WebSocketPolyfill,
    connect: input.connect ?? true,
    persistence: input.persistence ?? true,
    preferredRegion: input.preferredRegion ?? null,
    measureRtt: input.measureRtt ?? true,
    probeTimeoutMs: positive('probeTimeoutMs', input.probeTimeoutMs, 2_000),
    backoff,
    failoverAfterAttempts: Math.floor(positive('failoverAfterAttempts', input.failoverAfterAttempts, 2)),
    connectTimeoutMs: positive('connectTimeoutMs', input.connectTimeoutMs, 5_000),
    heartbeatMs: positive('heartbeatMs', input.heartbeatMs, 15_000),
    healthCheckIntervalMs: positive('healthCheckIntervalMs', input.healthCheckIntervalMs, 10_000),
    returnAfterHealthyChecks: Math.floor(positive('returnAfterHealthyChecks', input.returnAfterHealthyChecks, 3)),
    minRegionDwellMs: positive('minRegionDwellMs', input.minRegionDwellMs, 30_000),
    compactAfterUpdates: Math.floor(positive('compactAfterUpdates', input.compactAfterUpdates, 200)),
    onError: input.onError,
    random: input.random ?? Math.random,
  }
}
