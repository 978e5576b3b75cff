/**
 * Anti-entropy: what the change feed and cursors cannot repair — here a
 * relay that acknowledged a delta without applying it, so the sender's cursor
 * moved past it — the periodic digest exchange finds and repairs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'

let cluster: Cluster | null = null
const clients: RawClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  await cluster?.close()
  cluster = null
})

describe('anti-entropy', () => {
  for (const digestIntervalMs of [0, 100]) {
    it(`${digestIntervalMs ? 'repairs' : 'without digests, cannot repair'} a delta the peer acknowledged but lost`, async () => {
      let dropped = 0
      cluster = await startCluster(
        ['eu', 'us'],
        () => ({ digestIntervalMs }),
        (region) => (region === 'us' ? { peerDeltaFilter: (doc) => !(doc === 'lost/doc' && dropped++ === 0) } : {}),
      )
      await cluster.connected()
      const eu = await connectRawClient(cluster.node('eu').relay.url, 'lost/doc')
      const marker = await connectRawClient(cluster.node('eu').relay.url, 'marker/doc')
      clients.push(eu, marker)
      eu.doc.getText('t').insert(0, 'only eu has this')
      marker.doc.getText('t').insert(0, 'after')
      const us = cluster.node('us').relay
      // The marker arrives after the lost delta on the same link.
      await waitUntil([us], () => docJson(us, 'marker/doc')?.t === 'after')
      expect(dropped).toBe(1)
      if (digestIntervalMs === 0) {
        expect(docJson(us, 'lost/doc')?.t ?? '').toBe('')
        return
      }
      await us.docs.acquire('lost/doc')
      await waitUntil([us], () => docJson(us, 'lost/doc')?.t === 'only eu has this')
      expect(docJson(us, 'lost/doc')?.t).toBe('only eu has this')
    })
  }
})
