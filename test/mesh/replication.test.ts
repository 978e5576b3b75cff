/**
 * Three regions in one process: concurrent edits converge, each update
 * crosses each link once, partitions heal, and catch-up after a cut costs
 * what changed.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startCluster, waitUntil, docJson, stateVectorOf, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'

let cluster: Cluster | null = null
const clients: RawClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  await cluster?.close()
  cluster = null
})

const regions = ['eu', 'us', 'ap']
const relays = (c: Cluster) => [...c.nodes.values()].map((n) => n.relay)

const converged = (c: Cluster, doc: string): boolean => {
  const rs = relays(c)
  const first = JSON.stringify(docJson(rs[0]!, doc))
  const sv = stateVectorOf(rs[0]!, doc)
  return first !== 'null' && rs.every((r) => JSON.stringify(docJson(r, doc)) === first && stateVectorOf(r, doc) === sv)
}

describe('mesh replication', () => {
  it('converges concurrent edits made in every region', async () => {
    cluster = await startCluster(regions)
    await cluster.connected()
    const byRegion = await Promise.all(regions.map((r) => connectRawClient(cluster!.node(r).relay.url, 'shared/doc')))
    clients.push(...byRegion)
    byRegion.forEach((c, i) => {
      c.doc.getText('t').insert(0, `<${regions[i]}>`)
      c.doc.getMap('m').set(regions[i]!, i)
      c.doc.getArray('a').push([regions[i]])
    })
    await waitUntil(relays(cluster), () => converged(cluster!, 'shared/doc') && docJson(cluster!.node('eu').relay, 'shared/doc')?.a.length === 3)
    await Promise.all(byRegion.map((c) => c.waitFor(() => c.doc.getArray('a').length === 3 && c.doc.getText('t').length === 12, 'client convergence')))
    const texts = byRegion.map((c) => c.doc.getText('t').toString())
    expect(new Set(texts).size).toBe(1)
    expect(byRegion[0]!.doc.getMap('m').toJSON()).toEqual({ eu: 0, us: 1, ap: 2 })
  })

  it('sends each update from its origin across each link once, and receivers never send it on', async () => {
    cluster = await startCluster(regions)
    await cluster.connected()
    const writer = await connectRawClient(cluster.node('eu').relay.url, 'echo/doc')
    clients.push(writer)
    const updates = 20
    let rawBytes = 0
    writer.doc.on('update', (u: Uint8Array) => (rawBytes += u.byteLength))
    for (let i = 0; i < updates; i++) {
      writer.doc.getText('t').insert(i, 'x')
      // One update at a time, so coalescing cannot hide a duplicate.
      await waitUntil(relays(cluster), () => ['us', 'ap'].every((r) => docJson(cluster!.node(r).relay, 'echo/doc')?.t.length === i + 1))
    }
    const counters = (from: string, to: string) => cluster!.node(from).relay.mesh!.health().find((p) => p.region === to)!.counters!
    const deltas = (from: string, to: string) => counters(from, to).deltasOut
    console.log(
      `echo: ${updates} updates at eu; deltas eu→us ${deltas('eu', 'us')}, eu→ap ${deltas('eu', 'ap')}, us→eu ${deltas('us', 'eu')}, us→ap ${deltas('us', 'ap')}, ap→eu ${deltas('ap', 'eu')}, ap→us ${deltas('ap', 'us')}; ` +
        `eu→us wire ${counters('eu', 'us').wireBytesOut} B for ${counters('eu', 'us').rawUpdateBytesOut} B of updates (client produced ${rawBytes} B)`,
    )
    expect(deltas('eu', 'us')).toBe(updates)
    expect(deltas('eu', 'ap')).toBe(updates)
    // Bytes too: exactly the client's update bytes crossed each origin link, none crossed the others.
    expect(counters('eu', 'us').rawUpdateBytesOut).toBe(rawBytes)
    expect(counters('eu', 'ap').rawUpdateBytesOut).toBe(rawBytes)
    for (const [from, to] of [['us', 'eu'], ['us', 'ap'], ['ap', 'eu'], ['ap', 'us']] as const) {
      expect(deltas(from, to)).toBe(0)
      expect(counters(from, to).rawUpdateBytesOut).toBe(0)
    }
  })

  it('with a batching cadence, sends fewer bytes over the link than the updates it carries', async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ policies: [{ match: '**', regions: '*', cadenceMs: 200 }] }))
    await cluster.connected()
    const docs = ['batch/0', 'batch/1', 'batch/2', 'batch/3']
    const writers = await Promise.all(docs.map((d) => connectRawClient(cluster!.node('eu').relay.url, d)))
    clients.push(...writers)
    let rawBytes = 0
    let updates = 0
    for (const w of writers) w.doc.on('update', (u: Uint8Array) => ((rawBytes += u.byteLength), updates++))
    for (let i = 0; i < 50; i++) for (const w of writers) w.doc.getText('t').insert(i, 'y')
    const us = cluster.node('us').relay
    await waitUntil([us], () => docs.every((d) => docJson(us, d)?.t.length === 50))
    const c = cluster.node('eu').relay.mesh!.health()[0]!.counters!
    console.log(`batching: ${updates} updates, ${rawBytes} B raw; eu→us ${c.deltasOut} deltas, ${c.framesOut} frames, ${c.wireBytesOut} B on the wire`)
    expect(c.wireBytesOut).toBeLessThan(rawBytes)
    expect(c.deltasOut).toBeLessThan(updates)
  })

  it('heals a partition: edits on both sides of a cut converge after heal', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const eu = await connectRawClient(cluster.node('eu').relay.url, 'part/doc')
    const us = await connectRawClient(cluster.node('us').relay.url, 'part/doc')
    clients.push(eu, us)
    eu.doc.getText('t').insert(0, 'before ')
    await us.waitFor(() => us.doc.getText('t').toString() === 'before ', 'pre-cut sync')
    const reconnected = new Promise<void>((resolve) => {
      let opened = 0
      for (const r of relays(cluster!)) r.mesh!.on('session-open', () => ++opened === 4 && resolve())
    })
    cluster.cut('eu', 'us')
    eu.doc.getText('t').insert(7, 'eu-side ')
    us.doc.getText('t').insert(0, 'us-side ')
    await eu.waitFor(() => eu.doc.getText('t').toString().includes('eu-side'), 'local edit')
    cluster.heal('eu', 'us')
    await reconnected
    await waitUntil(relays(cluster), () => converged(cluster!, 'part/doc') && docJson(cluster!.node('eu').relay, 'part/doc')?.t.includes('us-side') === true)
    const text = docJson(cluster.node('us').relay, 'part/doc')!.t
    expect(text).toContain('eu-side')
    expect(text).toContain('us-side')
  })
})
