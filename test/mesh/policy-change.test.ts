/**
 * Changing the replication policy (relays restarted with a new config):
 * widening sends existing documents to the regions newly allowed; narrowing
 * removes a document from regions no longer allowed, audits the removal, and
 * stops sending it there. Relays whose policies differ report the mismatch.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
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

const dataDirs = async (): Promise<Record<string, string>> => {
  const dirs: Record<string, string> = {}
  for (const region of ['eu', 'us']) {
    const d = await makeTempDir()
    cleanups.push(d.remove)
    dirs[region] = d.path
  }
  return dirs
}

type Policies = { match: string; regions: string[] | '*' }[]
const pinnedToEu: Policies = [{ match: 'x/**', regions: ['eu'] }, { match: '**', regions: '*' }]
const everywhere: Policies = [{ match: '**', regions: '*' }]

const start = async (dirs: Record<string, string>, policies: Policies): Promise<Cluster> => {
  cluster = await startCluster(['eu', 'us'], (region) => ({ policies, dataDir: dirs[region]!, durability: 'buffered', digestIntervalMs: 0 }))
  await cluster.connected()
  return cluster
}

const write = async (c: Cluster, region: string, doc: string, text: string): Promise<void> => {
  const client = await connectRawClient(c.node(region).relay.url, doc)
  client.doc.getText('t').insert(client.doc.getText('t').length, text)
  await client.waitFor(() => (client.durable().get(client.doc.clientID) ?? 0) > 0, 'durable ack')
  await client.close()
}

describe('policy change', () => {
  it('widening replicates existing documents to the newly allowed region', async () => {
    const dirs = await dataDirs()
    let c = await start(dirs, pinnedToEu)
    await write(c, 'eu', 'x/doc', 'written while pinned')
    await write(c, 'eu', 'marker/doc', 'm')
    const us = c.node('us').relay
    await waitUntil([us], () => docJson(us, 'marker/doc')?.t === 'm')
    expect(await us.store.hasDoc('x/doc')).toBe(false)
    await c.close()
    cluster = null

    c = await start(dirs, everywhere)
    const usAfter = c.node('us').relay
    await waitUntil([usAfter], () => docJson(usAfter, 'x/doc')?.t === 'written while pinned')
    await usAfter.flush()
    expect(await usAfter.store.hasDoc('x/doc')).toBe(true)
  })

  it('narrowing removes the document from the region no longer allowed, audits it, and stops sending it there', async () => {
    const dirs = await dataDirs()
    let c = await start(dirs, everywhere)
    await write(c, 'eu', 'x/doc', 'everywhere at first')
    const us = c.node('us').relay
    await waitUntil([us], () => docJson(us, 'x/doc')?.t === 'everywhere at first')
    await us.flush()
    expect(await us.store.hasDoc('x/doc')).toBe(true)
    await c.close()
    cluster = null

    c = await start(dirs, pinnedToEu)
    const eu = c.node('eu').relay
    const usAfter = c.node('us').relay
    expect(await usAfter.store.hasDoc('x/doc')).toBe(false)
    expect(await eu.store.hasDoc('x/doc')).toBe(true)
    await usAfter.audit.flush()
    expect(await readFile(join(dirs.us!, 'audit.log'), 'utf8')).toMatch(/"kind":"doc-removed-by-policy".*"doc":"x\/doc"/)

    const deltasBefore = eu.mesh!.health()[0]!.counters!.deltasOut
    await write(c, 'eu', 'x/doc', ' and now only in eu')
    await write(c, 'eu', 'marker/doc', 'after')
    await waitUntil([usAfter], () => docJson(usAfter, 'marker/doc')?.t === 'after')
    // The marker crossed the link after the pinned edit would have: only the marker did.
    expect(eu.mesh!.health()[0]!.counters!.deltasOut - deltasBefore).toBe(1)
    expect(usAfter.docs.peek('x/doc')).toBeUndefined()
    expect(await usAfter.store.hasDoc('x/doc')).toBe(false)
  })

  it('reports relays whose policies differ, in /healthz and the audit log, once per peer', async () => {
    cluster = await startCluster(['eu', 'us'], (region) => ({ policies: region === 'eu' ? pinnedToEu : everywhere }))
    await cluster.connected()
    for (const region of ['eu', 'us']) {
      const relay = cluster.node(region).relay
      expect(relay.health().peers[0]!.policyHashMatch).toBe(false)
    }
    const eu = cluster.node('eu').relay
    const mismatches = (): number => eu.audit.recent().filter((e) => e.kind === 'policy-mismatch' && e.peerRegion === 'us').length
    expect(mismatches()).toBe(1)
    // A reconnect does not audit the same mismatch again.
    const reconnected = new Promise((resolve) => eu.mesh!.once('session-open', resolve))
    cluster.cut('eu', 'us')
    cluster.heal('eu', 'us')
    await reconnected
    await cluster.connected()
    expect(mismatches()).toBe(1)
  })
})
