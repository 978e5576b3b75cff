/**
 * Metrics of real relays: a client edit in each region of a pair, and the
 * peer deltas they cause, show up as the expected samples.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { parsePromText, valueOf } from './prom-text.js'
import { closeClient, editOnce, nextUpdate, startMeteredPair, type MeteredPair } from './metered-pair.js'

let pair: MeteredPair | null = null
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) await closeClient(ws)
  await pair?.close()
  pair = null
})

const LINK_DELAY_MS = 40

describe('relay metrics', () => {
  it('count client and peer updates, link bytes and lag measured from the origin time stamp', async () => {
    pair = await startMeteredPair({ delayMs: LINK_DELAY_MS })
    const { eu, us } = pair
    // Client edit at eu; it reaches us as a peer delta.
    const appliedAtUs = nextUpdate(us.relay, 'shared/doc', 'peer')
    const appliedAtEu = nextUpdate(eu.relay, 'shared/doc', 'client')
    const first = await editOnce(eu.relay, 'shared/doc', 'hello from eu')
    sockets.push(first.ws)
    await appliedAtEu
    await appliedAtUs
    // And the other way round, so eu also receives a peer delta.
    const backAtEu = nextUpdate(eu.relay, 'shared/doc', 'peer')
    const second = await editOnce(us.relay, 'shared/doc', 'hello from us')
    sockets.push(second.ws)
    await backAtEu
    await Promise.all([eu.relay.flush(), us.relay.flush()])

    const s = parsePromText(await eu.metrics.text()).samples
    expect(valueOf(s, 'meridian_relay_info', { region: 'eu', relay_id: eu.relay.relayId })).toBe(1)
    expect(valueOf(s, 'meridian_updates_applied_total', { origin: 'client' })).toBe(1)
    expect(valueOf(s, 'meridian_updates_applied_total', { origin: 'peer' })).toBe(1)
    expect(valueOf(s, 'meridian_update_bytes_applied_total', { origin: 'client' })).toBeGreaterThanOrEqual(first.bytes - 8)
    expect(valueOf(s, 'meridian_documents_loaded')).toBe(1)
    expect(valueOf(s, 'meridian_client_connections')).toBe(1)
    expect(valueOf(s, 'meridian_peer_up', { peer_region: 'us', link: 'outbound' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_up', { peer_region: 'us', link: 'inbound' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_policy_match', { peer_region: 'us' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_deltas_total', { peer_region: 'us', direction: 'sent' })).toBe(1)
    expect(valueOf(s, 'meridian_peer_deltas_total', { peer_region: 'us', direction: 'received' })).toBe(1)
    const rawSent = valueOf(s, 'meridian_peer_update_bytes_total', { peer_region: 'us', direction: 'sent' })
    expect(rawSent).toBeGreaterThan(0)
    // Wire bytes count every frame on both links: catch-up, acks and the delta.
    expect(valueOf(s, 'meridian_peer_wire_bytes_total', { peer_region: 'us', direction: 'sent' })).toBeGreaterThan(0)
    expect(valueOf(s, 'meridian_peer_wire_bytes_total', { peer_region: 'us', direction: 'received' })).toBeGreaterThan(0)
    expect(valueOf(s, 'meridian_persist_duration_seconds_count')).toBeGreaterThanOrEqual(2)
    expect(valueOf(s, 'meridian_catchup_runs_total', { peer_region: 'us' })).toBe(1)
    // eu applied us's delta but, as a receiver in a full mesh, did not send it on.
    expect(valueOf(s, 'meridian_deltas_not_forwarded_total', { reason: 'origin' })).toBe(1)

    // Lag is arrival time minus the origin's stamp, so it includes the link's delay.
    const lag = { peer_region: 'eu', origin_region: 'eu' }
    const atUs = parsePromText(await us.metrics.text()).samples
    expect(valueOf(atUs, 'meridian_replication_lag_seconds_count', lag)).toBe(1)
    expect(valueOf(atUs, 'meridian_replication_lag_seconds_sum', lag)).toBeGreaterThanOrEqual(LINK_DELAY_MS / 1000)
    expect(valueOf(atUs, 'meridian_replication_lag_seconds_bucket', { ...lag, le: '0.025' })).toBe(0)
    expect(valueOf(atUs, 'meridian_replication_lag_seconds_bucket', { ...lag, le: '+Inf' })).toBe(1)
    expect(us.metrics.lagSummary('eu')!.p50Ms).toBeGreaterThanOrEqual(LINK_DELAY_MS)
    expect(valueOf(atUs, 'meridian_peer_last_lag_seconds', { peer_region: 'eu' })).toBeGreaterThanOrEqual(LINK_DELAY_MS / 1000)
  })

  it('report the per-peer backlog that mesh.health() reports', async () => {
    // Documents under slow/ leave for peers at most once a minute, so an edit waits in the queue.
    const policies = [{ match: 'slow/**', regions: '*', cadenceMs: 60_000 }]
    pair = await startMeteredPair({ relay: { policies } })
    const { eu } = pair
    const scrape = async () => parsePromText(await eu.metrics.text()).samples
    let s = await scrape()
    expect(valueOf(s, 'meridian_peer_backlog_documents', { peer_region: 'us' })).toBe(0)
    expect(valueOf(s, 'meridian_peer_backlog_bytes', { peer_region: 'us' })).toBe(0)

    const applied = nextUpdate(eu.relay, 'slow/a', 'client')
    const { ws } = await editOnce(eu.relay, 'slow/a', 'queued for a minute')
    sockets.push(ws)
    await applied
    const health = eu.relay.mesh!.health().find((p) => p.region === 'us')!
    expect(health.backlogDocs).toBe(1)
    expect(health.backlogBytes).toBeGreaterThan(0)
    s = await scrape()
    expect(valueOf(s, 'meridian_peer_backlog_documents', { peer_region: 'us' })).toBe(health.backlogDocs)
    expect(valueOf(s, 'meridian_peer_backlog_bytes', { peer_region: 'us' })).toBe(health.backlogBytes)
    expect(valueOf(s, 'meridian_peer_deltas_total', { peer_region: 'us', direction: 'sent' })).toBe(0)
  })
})
