import { describe, expect, it } from 'vitest'
import { combineObservers, createRelayMetrics, type MetricsSource } from '../../src/observability/metrics.js'
import type { HealthReport, PeerHealth } from '../../src/http/health.js'
import { newCounters, type LinkCounters } from '../../src/mesh/peer-link.js'
import { parsePromText, samplesOf, valueOf } from './prom-text.js'

const peer = (region: string, over: Partial<PeerHealth> = {}): PeerHealth => ({
  region, url: `ws://127.0.0.1:1/${region}`, state: 'connected', relayId: `${region}-1`, policyHashMatch: true,
  lagMs: 12, backlogDocs: 0, backlogBytes: 0, inboundConnected: true, cursor: 0, counters: null, ...over,
})

const report = (peers: PeerHealth[]): HealthReport => ({
  status: 'ok', region: 'eu', relayId: 'eu-1', loadedDocs: 7, feedSeq: 0, connections: 3,
  storage: { healthy: true, durability: 'fsync', kind: 'memory' }, peers,
})

const scrape = async (metrics: ReturnType<typeof createRelayMetrics>) => parsePromText(await metrics.text()).samples

interface FakeSession { peerRegion: string; link: { counters: LinkCounters; open: boolean } }
const session = (region: string): FakeSession => ({ peerRegion: region, link: { counters: newCounters(), open: true } })

describe('RelayMetrics', () => {
  it('observes replication lag in seconds, clamps negative lag to 0 and counts it as skew', async () => {
    const metrics = createRelayMetrics()
    metrics.replicationLag('us', 'us', 120)
    metrics.replicationLag('us', 'us', -5)
    const s = await scrape(metrics)
    const labels = { peer_region: 'us', origin_region: 'us' }
    expect(valueOf(s, 'meridian_replication_lag_seconds_count', labels)).toBe(2)
    expect(valueOf(s, 'meridian_replication_lag_seconds_sum', labels)).toBeCloseTo(0.12, 6)
    expect(valueOf(s, 'meridian_replication_lag_seconds_bucket', { ...labels, le: '0.005' })).toBe(1)
    expect(valueOf(s, 'meridian_replication_lag_seconds_bucket', { ...labels, le: '0.1' })).toBe(1)
    expect(valueOf(s, 'meridian_replication_lag_seconds_bucket', { ...labels, le: '0.25' })).toBe(2)
    expect(valueOf(s, 'meridian_replication_negative_lag_total', { peer_region: 'us' })).toBe(1)
    expect(metrics.lagSummary('us')).toMatchObject({ count: 2, p50Ms: 0, maxMs: 120 })
    metrics.close()
  })

  it('reads gauges from the source once per scrape, and follows what health() reports', async () => {
    const metrics = createRelayMetrics()
    let calls = 0
    let current = report([peer('us', { backlogDocs: 2, backlogBytes: 345 }), peer('ap', { state: 'connecting', inboundConnected: false, policyHashMatch: null, lagMs: null })])
    metrics.collect({ health: () => (calls++, current) })
    let s = await scrape(metrics)
    expect(calls).toBe(1)
    expect(valueOf(s, 'meridian_documents_loaded')).toBe(7)
    expect(valueOf(s, 'meridian_client_connections')).toBe(3)
    expect(valueOf(s, 'meridian_relay_info', { region: 'eu', relay_id: 'eu-1' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_backlog_documents', { peer_region: 'us' })).toBe(2)
    expect(valueOf(s, 'meridian_peer_backlog_bytes', { peer_region: 'us' })).toBe(345)
    expect(valueOf(s, 'meridian_peer_up', { peer_region: 'ap', link: 'outbound' })).toBe(0)
    expect(valueOf(s, 'meridian_peer_up', { peer_region: 'us', link: 'inbound' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_last_lag_seconds', { peer_region: 'us' })).toBeCloseTo(0.012, 6)
    expect(samplesOf(s, 'meridian_peer_policy_match', { peer_region: 'ap' })).toHaveLength(0)

    current = { ...report([peer('us')]), status: 'degraded', storage: { healthy: false, durability: 'fsync', kind: 'memory' } }
    s = await scrape(metrics)
    expect(calls).toBe(2)
    expect(valueOf(s, 'meridian_storage_healthy')).toBe(0)
    expect(valueOf(s, 'meridian_peer_backlog_documents', { peer_region: 'us' })).toBe(0)
    // A peer that is no longer reported leaves no stale series behind.
    expect(samplesOf(s, 'meridian_peer_backlog_documents', { peer_region: 'ap' })).toHaveLength(0)
    metrics.close()
  })

  it('keeps per-peer byte counters monotonic across link sessions', async () => {
    const metrics = createRelayMetrics()
    const first = session('us')
    const sessions: FakeSession[] = [first]
    const source: MetricsSource = { health: () => report([peer('us')]), mesh: { sessions: () => sessions } }
    metrics.collect(source)
    first.link.counters.wireBytesOut = 100
    first.link.counters.wireBytesIn = 40
    let s = await scrape(metrics)
    expect(valueOf(s, 'meridian_peer_wire_bytes_total', { peer_region: 'us', direction: 'sent' })).toBe(100)
    expect(valueOf(s, 'meridian_peer_wire_bytes_total', { peer_region: 'us', direction: 'received' })).toBe(40)

    // The link drops after sending 50 more bytes; a new session starts from zero.
    first.link.counters.wireBytesOut = 150
    first.link.open = false
    const second = session('us')
    second.link.counters.wireBytesOut = 30
    sessions.splice(0, 1, second)
    // A session that opened and closed between two scrapes, seen only through trackPeerSession.
    const brief = session('us')
    metrics.trackPeerSession(brief)
    brief.link.counters.wireBytesOut = 7
    brief.link.counters.rawUpdateBytesOut = 9
    brief.link.open = false
    s = await scrape(metrics)
    expect(valueOf(s, 'meridian_peer_wire_bytes_total', { peer_region: 'us', direction: 'sent' })).toBe(100 + 50 + 30 + 7)
    expect(valueOf(s, 'meridian_peer_update_bytes_total', { peer_region: 'us', direction: 'sent' })).toBe(9)
    expect(parsePromText(await metrics.text()).types.get('meridian_peer_wire_bytes_total')).toBe('counter')
    metrics.close()
  })

  it('counts relay events with close-code names and pre-creates known label sets at 0', async () => {
    const metrics = createRelayMetrics()
    let s = await scrape(metrics)
    expect(valueOf(s, 'meridian_updates_applied_total', { origin: 'storage' })).toBe(0)
    expect(valueOf(s, 'meridian_deltas_not_forwarded_total', { reason: 'policy' })).toBe(0)
    metrics.updateApplied('client', 10)
    metrics.updateApplied('client', 5)
    metrics.updateApplied('peer', 3)
    metrics.clientClosed(4000)
    metrics.clientClosed('InvalidUpdate')
    metrics.clientClosed(4999)
    metrics.authFailure(4005)
    metrics.clientWrongRegion()
    metrics.policyDenied('us')
    metrics.readOnlyWriteDropped()
    metrics.compaction(true)
    metrics.catchupRun('us', 12, 5_000)
    metrics.catchupRun('ap', 3)
    metrics.deltaNotForwarded('no-change')
    s = await scrape(metrics)
    expect(valueOf(s, 'meridian_updates_applied_total', { origin: 'client' })).toBe(2)
    expect(valueOf(s, 'meridian_update_bytes_applied_total', { origin: 'client' })).toBe(15)
    expect(valueOf(s, 'meridian_updates_applied_total', { origin: 'peer' })).toBe(1)
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'MalformedMessage' })).toBe(1)
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'InvalidUpdate' })).toBe(1)
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'code_4999' })).toBe(1)
    expect(valueOf(s, 'meridian_auth_failures_total', { reason: 'Unauthorized' })).toBe(1)
    expect(valueOf(s, 'meridian_policy_denials_total', { source: 'client' })).toBe(1)
    expect(valueOf(s, 'meridian_policy_denials_total', { source: 'peer', peer_region: 'us' })).toBe(1)
    expect(valueOf(s, 'meridian_read_only_writes_dropped_total')).toBe(1)
    expect(valueOf(s, 'meridian_compactions_total', { result: 'ok' })).toBe(1)
    expect(valueOf(s, 'meridian_catchup_runs_total', { peer_region: 'us' })).toBe(1)
    expect(valueOf(s, 'meridian_catchup_runs_total', { peer_region: 'ap' })).toBe(1)
    expect(valueOf(s, 'meridian_catchup_bytes_bucket', { peer_region: 'us', le: '1000' })).toBe(0)
    expect(valueOf(s, 'meridian_catchup_bytes_bucket', { peer_region: 'us', le: '10000' })).toBe(1)
    expect(valueOf(s, 'meridian_catchup_bytes_sum', { peer_region: 'us' })).toBe(5_000)
    // A run whose size the mesh did not report is no observation of 0 bytes.
    expect(samplesOf(s, 'meridian_catchup_bytes_count', { peer_region: 'ap' })).toHaveLength(0)
    expect(valueOf(s, 'meridian_catchup_documents_bucket', { peer_region: 'us', le: '10' })).toBe(0)
    expect(valueOf(s, 'meridian_catchup_documents_bucket', { peer_region: 'us', le: '100' })).toBe(1)
    expect(valueOf(s, 'meridian_deltas_not_forwarded_total', { reason: 'no-change' })).toBe(1)
    metrics.close()
  })

  it('times persistence without changing the promise the caller gets', async () => {
    const metrics = createRelayMetrics()
    await expect(metrics.timePersist(Promise.resolve(42))).resolves.toBe(42)
    const failure = new Error('disk gone')
    await expect(metrics.timePersist(Promise.reject(failure))).rejects.toBe(failure)
    const s = await scrape(metrics)
    expect(valueOf(s, 'meridian_persist_duration_seconds_count')).toBe(1)
    expect(valueOf(s, 'meridian_persist_failures_total')).toBe(1)
    metrics.close()
  })

  it('gives each relay its own registry, and close() is idempotent', async () => {
    const a = createRelayMetrics()
    const b = createRelayMetrics()
    a.updateApplied('client')
    expect(valueOf(await scrape(a), 'meridian_updates_applied_total', { origin: 'client' })).toBe(1)
    expect(valueOf(await scrape(b), 'meridian_updates_applied_total', { origin: 'client' })).toBe(0)
    a.close()
    a.close()
    expect(samplesOf(await scrape(a), 'meridian_updates_applied_total')).toHaveLength(0)
    b.close()
  })

  it('combineObservers forwards to every observer', () => {
    const seen: string[] = []
    const observer = combineObservers(
      { catchupRun: (r, d, b) => seen.push(`a:${r}:${d}:${b}`), peerHostileInput: (r, c) => seen.push(`a:${r}:${c}`) },
      { catchupRun: (r, d, b) => seen.push(`b:${r}:${d}:${b}`) },
      {},
    )
    observer.catchupRun?.('us', 3, 99)
    observer.peerHostileInput?.('us', 4000)
    observer.replicationLag?.('us', 'us', 1)
    expect(seen).toEqual(['a:us:3:99', 'b:us:3:99', 'a:us:4000'])
  })
})
