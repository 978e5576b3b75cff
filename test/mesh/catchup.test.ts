/**
 * Catch-up after a cut costs what changed, not what exists: with 10,000
 * documents replicated and 10 changed during a cut, the reconnecting relay
 * exchanges exactly those 10 (counted), and they converge.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

const DOCS = 10_000
const CHANGED = 10

const writeAt = async (cluster: Cluster, region: string, doc: string, text: string): Promise<void> => {
  const live = await cluster.node(region).relay.docs.acquire(doc)
  const src = new Y.Doc()
  Y.applyUpdate(src, Y.encodeStateAsUpdate(live.doc))
  const before = Y.encodeStateVector(src)
  src.getText('t').insert(src.getText('t').length, text)
  live.apply(Y.encodeStateAsUpdate(src, before), { kind: 'client', connectionId: 0 })
}

const cursorReaches = (cluster: Cluster, from: string, to: string, seq: number): Promise<void> =>
  new Promise((resolve) => {
    const mesh = cluster.node(from).relay.mesh!
    const check = (region?: string, cursor?: number): void => {
      const current = cursor ?? mesh.health().find((p) => p.region === to)?.cursor ?? 0
      if ((region === undefined || region === to) && current >= seq) {
        mesh.off('cursor', check)
        resolve()
      }
    }
    mesh.on('cursor', check)
    check()
  })

describe('catch-up', () => {
  it(`after a cut, exchanges only the ${CHANGED} of ${DOCS} documents that changed`, async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ idleEvictMs: 50, digestIntervalMs: 0 }))
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const us = cluster.node('us').relay
    for (let i = 0; i < DOCS; i++) await writeAt(cluster, 'eu', `doc/${i}`, 'v1')
    await eu.flush()
    await cursorReaches(cluster, 'eu', 'us', eu.store.lastSeq())
    expect(await countDocs(us)).toBe(DOCS)

    cluster.cut('eu', 'us')
    const catchupAfterHeal = new Promise<number>((resolve) => eu.mesh!.once('catchup-sent', (_region: string, docs: number) => resolve(docs)))
    const changed = Array.from({ length: CHANGED }, (_, i) => `doc/${i * 997}`)
    for (const doc of changed) await writeAt(cluster, 'eu', doc, '+v2')
    await eu.flush()
    const before = cluster.node('eu').relay.mesh!.health().find((p) => p.region === 'us')!.counters
    cluster.heal('eu', 'us')
    const exchanged = await catchupAfterHeal
    await cursorReaches(cluster, 'eu', 'us', eu.store.lastSeq())
    for (const doc of changed) await us.docs.acquire(doc)
    await waitUntil([us], () => changed.every((d) => docJson(us, d)?.t === 'v1+v2'))
    const link = eu.mesh!.health().find((p) => p.region === 'us')!.counters!
    console.log(`catch-up: ${DOCS} documents, ${CHANGED} changed during the cut; exchanged ${exchanged} documents, ${link.wireBytesOut} bytes sent on the new link (previous link ${before?.wireBytesOut ?? 0} bytes)`)
    expect(exchanged).toBe(CHANGED)
    expect(link.wireBytesOut).toBeLessThan(CHANGED * 400)
  }, 120_000)
})

const countDocs = async (relay: import('@meridian/server').Relay): Promise<number> => {
  let n = 0
  for await (const _ of relay.store.listDocs()) n++
  return n
}
