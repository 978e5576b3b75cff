/**
 * Metrics whose values are read when Prometheus scrapes, not pushed as they
 * change: gauges from the relay's health report (documents, connections,
 * peer link state, backlog from mesh.health()) and per-peer traffic
 * counters from the link totals. Each collector resets before it fills,
 * so a series whose subject disappeared does not linger with a stale value.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { HealthReport } from '../http/health.js'
import type { LinkTotals, LinkTotalsTracker } from './link-totals.js'

/** Returns the report of the scrape in progress (read once per scrape), or null when nothing is being collected. */
export type ScrapeSnapshot = () => HealthReport | null

type Fill<L extends string> = (h: HealthReport, set: (labels: Partial<Record<L, string>>, value: number) => void) => void

export const defineScrapeMetrics = (registry: Registry, snapshot: ScrapeSnapshot, links: LinkTotalsTracker): void => {
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<L>): void => {
    const g: Gauge<L> = new Gauge<L>({
      name, help, labelNames, registers: [registry],
      collect: () => {
        const h = snapshot()
        if (!h) return
        g.reset()
        fill(h, (labels, value) => g.set(labels, value))
      },
    })
  }

  gauge('meridian_relay_info', 'This relay: region and relay id as labels, value 1', ['region', 'relay_id'], (h, set) => set({ region: h.region, relay_id: h.relayId }, 1))
  gauge('meridian_storage_healthy', '1 while storage works, 0 once it failed (acks stop, /healthz answers 503)', [], (h, set) => set({}, h.storage.healthy ? 1 : 0))
  gauge('meridian_documents_loaded', 'Documents in memory', [], (h, set) => set({}, h.loadedDocs))
  gauge('meridian_client_connections', 'Open client connections', [], (h, set) => set({}, h.connections))
  gauge('meridian_peer_up', 'Peer links up: link=outbound (this relay dialed it; carries our deltas), link=inbound (the peer dialed it; carries theirs)', ['peer_region', 'link'], (h, set) => {
    for (const p of h.peers) {
      set({ peer_region: p.region, link: 'outbound' }, p.state === 'connected' ? 1 : 0)
      set({ peer_region: p.region, link: 'inbound' }, p.inboundConnected ? 1 : 0)
    }
  })
  gauge('meridian_peer_policy_match', '1 when the peer reported the same policy hash, 0 when not (absent before the first hello)', ['peer_region'], (h, set) => {
    for (const p of h.peers) if (p.policyHashMatch !== null) set({ peer_region: p.region }, p.policyHashMatch ? 1 : 0)
  })
  gauge('meridian_peer_backlog_documents', 'Documents with deltas queued for a peer', ['peer_region'], (h, set) => {
    for (const p of h.peers) set({ peer_region: p.region }, p.backlogDocs)
  })
  gauge('meridian_peer_backlog_bytes', 'Bytes of merged deltas queued for a peer', ['peer_region'], (h, set) => {
    for (const p of h.peers) set({ peer_region: p.region }, p.backlogBytes)
  })
  gauge('meridian_peer_last_lag_seconds', 'Lag of the last delta received from a peer (negative skew shows as 0)', ['peer_region'], (h, set) => {
    for (const p of h.peers) if (p.lagMs !== null) set({ peer_region: p.region }, Math.max(0, p.lagMs) / 1000)
  })

  const linkCounter = (name: string, help: string, sent: keyof LinkTotals, received: keyof LinkTotals): void => {
    const c: Counter<'peer_region' | 'direction'> = new Counter({
      name, help, labelNames: ['peer_region', 'direction'], registers: [registry],
      collect: () => {
        // snapshot() folds the sessions' growth into the totals once per scrape.
        if (!snapshot()) return
        // The totals only grow, so reset-and-add keeps the exported counter monotonic.
        c.reset()
        for (const [region, t] of links.byRegion()) {
          c.inc({ peer_region: region, direction: 'sent' }, t[sent])
          c.inc({ peer_region: region, direction: 'received' }, t[received])
        }
      },
    })
  }
  linkCounter('meridian_peer_wire_bytes_total', 'Bytes on the peer links after batching and compression, both links of each peer', 'wireBytesOut', 'wireBytesIn')
  linkCounter('meridian_peer_update_bytes_total', 'Raw Yjs update bytes carried on the peer links, before compression', 'rawUpdateBytesOut', 'rawUpdateBytesIn')
  linkCounter('meridian_peer_frames_total', 'Frames on the peer links', 'framesOut', 'framesIn')
  linkCounter('meridian_peer_deltas_total', 'Deltas (merged per document) on the peer links', 'deltasOut', 'deltasIn')
}
