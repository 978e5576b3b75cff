/**
 * Region routing against real relays: the nearest region by measured round
 * trip, a wrong-region refusal followed to the region the policy names, and a
 * relay whose storage fails (4011) failed over. Clients reach each relay
 * through a LinkProxy so a region's distance can be set.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryDocStore, Relay, type LinkProxy } from '@meridian/server'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { Providers, nextEvent } from './support.js'
import { DelayProxy } from './delay-proxy.js'

let cluster: Cluster | null = null
const proxies: LinkProxy[] = []
const relays: Relay[] = []
const delayProxies: DelayProxy[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const p of [...proxies.splice(0), ...delayProxies.splice(0)]) await p.close()
  for (const r of relays.splice(0)) await r.close()
  await cluster?.close()
  cluster = null
  expect(unexpectedErrors).toEqual([])
})

const policies = [
  { match: 'eu-only/**', regions: ['eu'] },
  { match: '**', regions: '*' },
]

describe('region routing', () => {
  it('connects to the region with the shortest measured round trip', async () => {
    cluster = await startCluster(['eu', 'us'])
    // eu is listed first but is 2 × 40 ms further away.
    const far = new DelayProxy(cluster.node('eu').relay.port, 40)
    const near = new DelayProxy(cluster.node('us').relay.port, 0)
    await far.start()
    await near.start()
    delayProxies.push(far, near)
    const health: string[] = []
    const provider = providers.create(new Y.Doc(), 'notes/near', {
      regions: [
        { region: 'eu', url: `ws://127.0.0.1:${far.port}` },
        { region: 'us', url: `ws://127.0.0.1:${near.port}` },
      ],
      measureRtt: true,
    })
    provider.on('region-health', ({ region, healthy }) => health.push(`${region}:${healthy}`))
    const change = nextEvent(provider, 'region-change')
    await provider.whenSynced()
    expect(provider.region).toBe('us')
    expect((await change)[0]).toEqual({ from: null, to: 'us', reason: 'initial' })
    expect(health.sort()).toEqual(['eu:true', 'us:true'])
  })

  it('follows a wrong-region refusal to the region the policy names', async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ policies }))
    await cluster.connected()
    const closes: number[] = []
    const provider = providers.create(new Y.Doc(), 'eu-only/ledger', {
      regions: [
        { region: 'us', url: cluster.node('us').relay.url },
        { region: 'eu', url: cluster.node('eu').relay.url },
      ],
      preferredRegion: 'us',
    })
    provider.on('connection-close', ({ region, code }) => closes.push(code) && void region)
    const change = nextEvent(provider, 'region-change')
    provider.doc.getText('t').insert(0, 'stays in eu')
    await provider.whenSynced()
    expect(closes).toEqual([4004])
    expect(provider.region).toBe('eu')
    expect((await change)[0]).toEqual({ from: null, to: 'eu', reason: 'initial' })
    await provider.whenDurable()
    expect(docJson(cluster.node('eu').relay, 'eu-only/ledger')?.t).toBe('stays in eu')
    expect(docJson(cluster.node('us').relay, 'eu-only/ledger')).toBeNull()
  })

  it('gives up with no-allowed-region when the policy names no configured region', async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ policies }))
    const errors: string[] = []
    const provider = providers.create(new Y.Doc(), 'eu-only/x', {
      regions: [{ region: 'us', url: cluster.node('us').relay.url }],
      onError: (err) => errors.push((err as { code?: string }).code ?? ''),
    })
    await expect(provider.whenSynced()).rejects.toMatchObject({ code: 'no-allowed-region', closeCode: 4004 })
    expect(errors).toEqual(['no-allowed-region'])
    expect(provider.status).toBe('offline')
  })

  it('fails over when the relay reports its storage unavailable, and nothing is lost', async () => {
    const euStore = new MemoryDocStore()
    const eu = await new Relay({ region: 'eu', logLevel: 'silent' }, { store: euStore }).start()
    const us = await new Relay({ region: 'us', logLevel: 'silent' }).start()
    relays.push(eu, us)
    const provider = providers.create(new Y.Doc(), 'notes/disk', {
      regions: [
        { region: 'eu', url: eu.url },
        { region: 'us', url: us.url },
      ],
      preferredRegion: 'eu',
    })
    await provider.whenSynced()
    expect(provider.region).toBe('eu')
    euStore.failWrites()
    const closed = nextEvent(provider, 'connection-close')
    const moved = nextEvent(provider, 'region-change', (e) => e.to === 'us')
    provider.doc.getText('t').insert(0, 'not on a broken disk')
    expect((await closed)[0]).toMatchObject({ region: 'eu', code: 4011 })
    expect((await moved)[0]).toEqual({ from: 'eu', to: 'us', reason: 'storage-unavailable' })
    await provider.whenDurable()
    await waitUntil([us], () => docJson(us, 'notes/disk')?.t === 'not on a broken disk')
  })
})
