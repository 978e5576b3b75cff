/**
 * Failover and return: the connected region becomes unreachable (its
 * client-facing link is cut, or its relay shuts down), the provider moves to
 * the other region without losing an edit, and moves back to the preferred
 * region only after it has stayed healthy for several checks in a row — a
 * region that flaps does not pull it back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { LinkProxy } from '@meridian/server'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { Providers, frontProxy, nextEvent } from './support.js'

let cluster: Cluster | null = null
const proxies: LinkProxy[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const p of proxies.splice(0)) await p.close()
  await cluster?.close()
  cluster = null
  expect(unexpectedErrors).toEqual([])
})

const text = (relayDoc: ReturnType<typeof docJson>): string | undefined => relayDoc?.t

describe('failover', () => {
  it('moves to the next region when the connected one becomes unreachable, and returns with hysteresis', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const euFront = await frontProxy(cluster.node('eu').relay.port)
    const usFront = await frontProxy(cluster.node('us').relay.port)
    proxies.push(euFront, usFront)
    const provider = providers.create(new Y.Doc(), 'notes/failover', {
      regions: [
        { region: 'eu', url: `ws://127.0.0.1:${euFront.port}` },
        { region: 'us', url: `ws://127.0.0.1:${usFront.port}` },
      ],
      preferredRegion: 'eu',
      measureRtt: true,
      healthCheckIntervalMs: 60,
      returnAfterHealthyChecks: 3,
      minRegionDwellMs: 200,
    })
    const changes: string[] = []
    provider.on('region-change', ({ from, to, reason }) => changes.push(`${from}->${to}:${reason}`))
    const t = provider.doc.getText('t')
    await provider.whenSynced()
    t.insert(0, 'A')

    const toUs = nextEvent(provider, 'region-change', (e) => e.to === 'us')
    const cutAt = Date.now()
    euFront.cutLink()
    t.insert(1, 'B') // made while no region is connected
    await toUs
    t.insert(2, 'C')
    await provider.whenDurable()
    const us = cluster.node('us').relay
    await waitUntil([us], () => text(docJson(us, 'notes/failover')) === 'ABC')

    // eu flaps: healthy for fewer checks than required, then down again. Twice.
    const euHealth = (healthy: boolean) => nextEvent(provider, 'region-health', (e) => e.region === 'eu' && e.healthy === healthy)
    for (let i = 0; i < 2; i++) {
      const up = euHealth(true)
      euFront.heal()
      await up
      const down = euHealth(false)
      euFront.cutLink()
      await down
    }
    expect(provider.region).toBe('us')

    let healthyInRow = 0
    provider.on('region-health', (e) => {
      if (e.region === 'eu') healthyInRow = e.healthy ? healthyInRow + 1 : 0
    })
    const back = nextEvent(provider, 'region-change', (e) => e.to === 'eu')
    euFront.heal()
    expect((await back)[0]).toEqual({ from: 'us', to: 'eu', reason: 'preferred-healthy' })
    expect(healthyInRow).toBeGreaterThanOrEqual(3)
    // The stay in us lasted at least minRegionDwellMs, and it began after the cut.
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(200)
    await provider.whenSynced()
    t.insert(3, 'D')
    await provider.whenDurable()
    const eu = cluster.node('eu').relay
    await waitUntil([eu], () => text(docJson(eu, 'notes/failover')) === 'ABCD')
    expect(changes).toEqual(['null->eu:initial', 'eu->us:failover', 'us->eu:preferred-healthy'])
  })

  it('returns to the first-listed region without round-trip ranking (measureRtt: false)', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const euFront = await frontProxy(cluster.node('eu').relay.port)
    proxies.push(euFront)
    const provider = providers.create(new Y.Doc(), 'notes/no-rtt', {
      regions: [
        { region: 'eu', url: `ws://127.0.0.1:${euFront.port}` },
        { region: 'us', url: cluster.node('us').relay.url },
      ],
      measureRtt: false,
      healthCheckIntervalMs: 60,
      returnAfterHealthyChecks: 2,
      minRegionDwellMs: 100,
    })
    const health: string[] = []
    provider.on('region-health', ({ region, healthy }) => health.push(`${region}:${healthy}`))
    await provider.whenSynced()
    expect(provider.region).toBe('eu')
    expect(health).toEqual([]) // nothing is measured to rank

    const toUs = nextEvent(provider, 'region-change', (e) => e.to === 'us')
    euFront.cutLink()
    await toUs
    provider.doc.getText('t').insert(0, 'made in us')
    const down = nextEvent(provider, 'region-health', (e) => e.region === 'eu' && !e.healthy)
    await down
    const back = nextEvent(provider, 'region-change', (e) => e.to === 'eu')
    euFront.heal()
    expect((await back)[0]).toEqual({ from: 'us', to: 'eu', reason: 'preferred-healthy' })
    expect(health.filter((h) => h.startsWith('us'))).toEqual([]) // only the better region is checked
    await provider.whenSynced()
    await provider.whenDurable()
    expect(provider.doc.getText('t').toString()).toBe('made in us')
  })

  it('reconnects after a relay shutdown (1001) and fails over when it does not come back', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const provider = providers.create(new Y.Doc(), 'notes/shutdown', {
      regions: [
        { region: 'eu', url: eu.url },
        { region: 'us', url: cluster.node('us').relay.url },
      ],
      preferredRegion: 'eu',
    })
    const closes: number[] = []
    provider.on('connection-close', ({ code }) => closes.push(code))
    await provider.whenSynced()
    provider.doc.getArray('a').push([1, 2, 3])
    await provider.whenDurable()
    const moved = nextEvent(provider, 'region-change', (e) => e.to === 'us')
    await eu.close()
    provider.doc.getArray('a').push([4])
    expect((await moved)[0].reason).toBe('failover')
    expect(closes[0]).toBe(1001)
    // One more try at eu after the shutdown, refused, before moving on.
    expect(closes.length).toBeGreaterThanOrEqual(2)
    await provider.whenDurable()
    const us = cluster.node('us').relay
    await waitUntil([us], () => JSON.stringify(docJson(us, 'notes/shutdown')?.a) === '[1,2,3,4]')
  })
})
