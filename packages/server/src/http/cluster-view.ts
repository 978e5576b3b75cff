/**
 * The cluster as seen from one relay (GET /api/cluster, what the dashboard
 * draws): this relay's own health, its peers' /healthz fetched through it,
 * and every directed link between regions that any of those reports.
 *
 * A directed link A→B carries A's deltas to B: its state and backlog are
 * what A reports about its dialed link to B, its lag what B measured on
 * A's deltas, and its byte counters those of A's link (they restart with
 * each session; the page turns their growth into throughput).
 */
import type { HealthReport } from './health.js'
import type { AuditEvent } from '../mesh/audit-log.js'
import type { LagSummary } from '../observability/lag-window.js'
import type { PeerHealthErrorCode, PeerHealthFetcher, RemoteHealth } from './peer-health.js'

/** What the view needs from the relay; `Relay` satisfies it as is. */
export interface ClusterSource {
  health(): HealthReport
  readonly audit: { recent(): readonly AuditEvent[] }
}

export interface RegionView {
  region: string
  self: boolean
  /** 'unreachable': its /healthz failed; 'unknown': only named by another relay, not peered with this one. */
  status: 'ok' | 'degraded' | 'unreachable' | 'unknown'
  relayId: string | null
  loadedDocs: number | null
  connections: number | null
  storage: { healthy: boolean; durability: string; kind: string } | null
  error: { code: PeerHealthErrorCode; message: string } | null
  /** Age of the report shown, in ms (0 for this relay). */
  reportAgeMs: number | null
}

export interface LinkView {
  from: string
  to: string
  state: 'connected' | 'connecting' | 'disconnected' | 'unknown'
  lagMs: number | null
  /** Lag percentiles over the last minute, for links into this relay when metrics are on. */
  lagWindow: LagSummary | null
  backlogDocs: number | null
  backlogBytes: number | null
  wireBytes: number | null
  rawUpdateBytes: number | null
  deltas: number | null
  policyHashMatch: boolean | null
}

export interface ClusterView {
  generatedAt: string
  self: string
  regions: RegionView[]
  links: LinkView[]
  /** This relay's recent policy and audit events, newest first. */
  audit: AuditEvent[]
}

export interface ClusterViewDeps {
  source: ClusterSource
  fetcher: PeerHealthFetcher
  lagSummary?: ((peerRegion: string) => LagSummary | null) | null
  maxAuditEvents?: number
  now?: () => number
}

type PeerEntry = RemoteHealth['peers'][number]

export const buildClusterView = async (deps: ClusterViewDeps): Promise<ClusterView> => {
  const now = deps.now ?? Date.now
  const own = deps.source.health()
  const reports = new Map<string, RemoteHealth>([[own.region, own]])
  const regions: RegionView[] = [{
    region: own.region, self: true, status: own.status, relayId: own.relayId, loadedDocs: own.loadedDocs,
    connections: own.connections, storage: own.storage, error: null, reportAgeMs: 0,
  }]
  const fetched = await Promise.all(own.peers.map((p) =>
    p.url ? deps.fetcher.get(p.region, p.url) : Promise.resolve(null)))
  own.peers.forEach((p, i) => {
    const result = fetched[i]
    if (result?.ok) {
      const r = result.report
      reports.set(p.region, r)
      regions.push({
        region: p.region, self: false, status: r.status, relayId: r.relayId, loadedDocs: r.loadedDocs,
        connections: r.connections, storage: r.storage ?? null, error: null, reportAgeMs: Math.max(0, now() - result.fetchedAt),
      })
    } else {
      regions.push({
        region: p.region, self: false, status: 'unreachable', relayId: p.relayId, loadedDocs: null, connections: null, storage: null,
        error: result ? { code: result.code, message: result.message } : null, reportAgeMs: null,
      })
    }
  })
  // Regions only the peers know (a partial mesh): shown, never fetched.
  for (const report of reports.values()) {
    for (const p of report.peers) {
      if (regions.some((r) => r.region === p.region)) continue
      regions.push({ region: p.region, self: false, status: 'unknown', relayId: p.relayId, loadedDocs: null, connections: null, storage: null, error: null, reportAgeMs: null })
    }
  }
  return {
    generatedAt: new Date(now()).toISOString(),
    self: own.region,
    regions,
    links: buildLinks(own.region, reports, deps.lagSummary ?? null),
    audit: [...deps.source.audit.recent()].reverse().slice(0, deps.maxAuditEvents ?? 50),
  }
}

const buildLinks = (self: string, reports: ReadonlyMap<string, RemoteHealth>, lagSummary: ((r: string) => LagSummary | null) | null): LinkView[] => {
  const keys = new Set<string>()
  const pairs: [string, string][] = []
  const add = (from: string, to: string): void => {
    const key = JSON.stringify([from, to])
    if (keys.has(key)) return
    keys.add(key)
    pairs.push([from, to])
  }
  for (const report of reports.values()) {
    for (const p of report.peers) {
      add(report.region, p.region)
      add(p.region, report.region)
    }
  }
  const entry = (reporter: string, about: string): PeerEntry | undefined => reports.get(reporter)?.peers.find((p) => p.region === about)
  return pairs.map(([from, to]) => {
    const sender = entry(from, to)
    const receiver = entry(to, from)
    const state: LinkView['state'] = sender
      ? sender.state
      : receiver ? (receiver.inboundConnected ? 'connected' : 'disconnected') : 'unknown'
    const counters = sender?.counters ?? null
    return {
      from, to, state,
      lagMs: receiver?.lagMs ?? null,
      lagWindow: to === self && lagSummary ? lagSummary(from) : null,
      backlogDocs: sender?.backlogDocs ?? null,
      backlogBytes: sender?.backlogBytes ?? null,
      wireBytes: counters?.wireBytesOut ?? null,
      rawUpdateBytes: counters?.rawUpdateBytesOut ?? null,
      deltas: counters?.deltasOut ?? null,
      policyHashMatch: sender?.policyHashMatch ?? receiver?.policyHashMatch ?? null,
    }
  })
}
