/**
 * Anti-entropy: what the change feed and cursors cannot repair — a relay
 * that acknowledged a delta without applying it, or a relay restored from an
 * older backup, so the sender's cursor is past what the peer holds — the
 * periodic digest exchange finds and repairs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { cp } from 'node:fs/promises'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { makeTempDir } from '../support/temp-dir.js'

let cluster: Cluster | null = null
const clients: RawClient[] = []
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  await cluster?.close()
  cluster = null
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Resolves once `from`'s cursor for `to` covers its whole change feed (everything is durable there). */
const cursorAtHead = (c: Cluster, from: string, to: string): Promise<void> =>
  new Promise((resolve) => {
    const relay = c.node(from).relay
    const check = (): void => {
      if ((relay.mesh!.health().find((p) => p.region === to)?.cursor ?? 0) < relay.store.lastSeq()) return
      relay.mesh!.off('cursor', check)
      resolve()
    }
    relay.mesh!.on('cursor', check)
    check()
  })

const writeDurably = async (url: string, doc: string, text: string): Promise<void> => {
  const client = await connectRawClient(url, doc)
  client.doc.getText('t').insert(client.doc.getText('t').length, text)
  await client.waitFor(() => (client.durable().get(client.doc.clientID) ?? 0) > 0, 'durable ack')
  await client.close()
}

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

  for (const digestIntervalMs of [0, 100]) {
    it(`${digestIntervalMs ? 'repairs' : 'without digests, cannot repair'} a peer restored from an older backup`, async () => {
      const dirs: Record<string, string> = {}
      for (const name of ['eu', 'us', 'backup']) {
        const d = await makeTempDir()
        cleanups.push(d.remove)
        dirs[name] = d.path
      }
      const options = (region: string) => ({ dataDir: dirs[region]!, durability: 'buffered' as const, digestIntervalMs })
      cluster = await startCluster(['eu', 'us'], options)
      await cluster.connected()
      await writeDurably(cluster.node('eu').relay.url, 'doc/before', 'in the backup')
      let us = cluster.node('us').relay
      await waitUntil([us], () => docJson(us, 'doc/before')?.t === 'in the backup')
      await cluster.close()
      await cp(dirs.us!, dirs.backup!, { recursive: true })

      cluster = await startCluster(['eu', 'us'], options)
      await cluster.connected()
      await writeDurably(cluster.node('eu').relay.url, 'doc/after', 'after the backup')
      us = cluster.node('us').relay
      await waitUntil([us], () => docJson(us, 'doc/after')?.t === 'after the backup')
      await cursorAtHead(cluster, 'eu', 'us')
      await cluster.close()
      // us comes back from the backup, with the same relay id: eu's cursor
      // says us holds doc/after, the change feed has nothing newer to send.
      cluster = await startCluster(['eu', 'us'], (region) => ({ ...options(region), dataDir: region === 'us' ? dirs.backup! : dirs.eu! }))
      await cluster.connected()
      us = cluster.node('us').relay
      await us.docs.acquire('doc/after')
      if (digestIntervalMs === 0) {
        await writeDurably(cluster.node('eu').relay.url, 'marker/doc', 'm')
        await waitUntil([us], () => docJson(us, 'marker/doc')?.t === 'm')
        expect(docJson(us, 'doc/after')?.t).toBe('')
        return
      }
      await waitUntil([us], () => docJson(us, 'doc/after')?.t === 'after the backup')
      await us.docs.acquire('doc/before')
      expect(docJson(us, 'doc/before')?.t).toBe('in the backup')
    })
  }
})
