/**
 * Residency: a pinned document never leaves its placement — not over the
 * link, not into another region's storage — while unpinned documents
 * replicate over the same links; clients asking the wrong region are refused
 * with a reason naming the right ones; a peer that sends a pinned document
 * anyway is refused and audited.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode, encodeDelta, encodeBatch, encodeBatchPayload, encodeHello, PEER_PROTOCOL_VERSION, decodePeerMessage, decodeBatchMessages } from '@meridian/core'
import { Relay, PEER_PATH } from '@meridian/server'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { makeTempDir } from '../support/temp-dir.js'

const policies = [
  { match: 'eu-only/**', regions: ['eu'] },
  { match: '**', regions: '*' },
]

let cluster: Cluster | null = null
const cleanups: (() => Promise<unknown>)[] = []
const clients: RawClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  await cluster?.close()
  cluster = null
  for (const c of cleanups.splice(0).reverse()) await c()
})

const filesContain = async (dir: string, needle: string): Promise<boolean> => {
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name)
    try {
      if ((await readFile(path)).includes(needle)) return true
    } catch {
      // a directory
    }
  }
  return false
}

describe('residency', () => {
  it('keeps a pinned document out of other regions while unpinned ones replicate', async () => {
    const dirs = new Map<string, string>()
    for (const r of ['eu', 'us']) {
      const d = await makeTempDir()
      cleanups.push(d.remove)
      dirs.set(r, d.path)
    }
    cluster = await startCluster(['eu', 'us'], (region) => ({ policies, dataDir: dirs.get(region)!, durability: 'buffered' }))
    await cluster.connected()
    const eu = await connectRawClient(cluster.node('eu').relay.url, 'eu-only/secret')
    const euShared = await connectRawClient(cluster.node('eu').relay.url, 'shared/open')
    clients.push(eu, euShared)
    const secret = 'PINNED-MARKER-7f3a'
    eu.doc.getText('t').insert(0, secret)
    euShared.doc.getText('t').insert(0, 'OPEN-MARKER-19bc')
    await waitUntil([cluster.node('us').relay], () => docJson(cluster!.node('us').relay, 'shared/open')?.t === 'OPEN-MARKER-19bc')
    await eu.waitFor(() => (eu.durable().get(eu.doc.clientID) ?? 0) > 0, 'durable ack')
    // Everything us will ever see of eu's writes has arrived once shared/open did (same link, in order).
    await cluster.node('us').relay.committer.flush()
    const us = cluster.node('us').relay
    expect(us.docs.peek('eu-only/secret')).toBeUndefined()
    expect(await us.store.hasDoc('eu-only/secret')).toBe(false)
    const counters = cluster.node('eu').relay.mesh!.health().find((p) => p.region === 'us')!.counters!
    expect(counters.deltasOut).toBe(1)
    await cluster.close()
    cluster = null
    expect(await filesContain(dirs.get('us')!, 'OPEN-MARKER-19bc')).toBe(true)
    expect(await filesContain(dirs.get('us')!, secret)).toBe(false)
    expect(await filesContain(dirs.get('eu')!, secret)).toBe(true)
  })

  it('refuses a client in the wrong region with the regions that may serve it', async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ policies }))
    await cluster.connected()
    const ws = new WebSocket(`${cluster.node('us').relay.url}/eu-only/x`)
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])))
    expect(code).toBe(CloseCode.WrongRegion)
    expect(reason).toMatch(/regions=eu$/)
    expect(cluster.node('us').relay.audit.recent().some((e) => e.kind === 'client-wrong-region' && e.doc === 'eu-only/x')).toBe(true)
  })

  it('refuses a pinned document that a peer sends anyway, and audits it', async () => {
    const dir = await makeTempDir()
    cleanups.push(dir.remove)
    const us = await new Relay({ region: 'us', logLevel: 'silent', policies, dataDir: dir.path }).start()
    cleanups.push(() => us.close())
    // A misbehaving "eu" relay speaking the protocol by hand.
    const ws = new WebSocket(`${us.url}${PEER_PATH}`)
    await new Promise((r) => ws.once('open', r))
    ws.send(encodeHello({ version: PEER_PROTOCOL_VERSION, relayId: 'rogue', region: 'eu', policyHash: 'x', time: Date.now(), nonce: new Uint8Array(16), auth: new Uint8Array([0]) }))
    await new Promise((r) => ws.once('message', r))
    const src = new Y.Doc()
    src.getText('t').insert(0, 'smuggled')
    const replies: string[] = []
    const gotAck = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        const outer = decodePeerMessage(new Uint8Array(data))
        if (outer.type !== 'batch') return
        for (const m of decodeBatchMessages(outer.payload)) {
          replies.push(m.type)
          if (m.type === 'ack') resolve()
        }
      }),
    )
    ws.send(encodeBatch(false, encodeBatchPayload([encodeDelta('eu-only/doc', Y.encodeStateAsUpdate(src), 'eu', Date.now(), 1)])))
    await gotAck
    expect(replies).toContain('refused')
    expect(await us.store.hasDoc('eu-only/doc')).toBe(false)
    await us.audit.flush()
    const audit = await readFile(join(dir.path, 'audit.log'), 'utf8')
    expect(audit).toMatch(/"kind":"peer-sent-disallowed-doc".*"doc":"eu-only\/doc"/)
    ws.close()
  })
})
