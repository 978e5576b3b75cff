/**
 * Peer-session behaviour a misbehaving or slow peer exposes: a peer may not
 * read a document its region may not hold; a slow disk on the receiver does
 * not hold back applying the next frames; documents with a short cadence are
 * not held back by documents with a long one queued before them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode, PEER_PROTOCOL_VERSION, encodeDelta, encodeHello, encodePeerSyncStep1, type PeerMessage } from '@meridian/core'
import { MemoryDocStore, PEER_PATH, Relay } from '@meridian/server'
import { connectRoguePeer, type RoguePeer } from '../support/rogue-peer.js'
import { GatedStore } from '../support/gated-store.js'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const updateWithText = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const isType =
  <K extends PeerMessage['type']>(type: K, doc?: string) =>
  (m: PeerMessage): m is Extract<PeerMessage, { type: K }> =>
    m.type === type && (doc === undefined || (m as { doc?: string }).doc === doc)

/** Rejects after `ms`: a bound on how long something may take, not a wait. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

describe('peer session', () => {
  it.each([['an older', PEER_PROTOCOL_VERSION - 1], ['a newer', PEER_PROTOCOL_VERSION + 1]])('refuses a hello of %s protocol version, naming both', async (_, version) => {
    const eu = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
    cleanups.push(() => eu.close())
    const ws = new WebSocket(`${eu.url}${PEER_PATH}`)
    await new Promise((resolve) => ws.once('open', resolve))
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])))
    ws.send(encodeHello({ version, relayId: 'other', region: 'us', policyHash: 'x', time: Date.now(), nonce: new Uint8Array(16), auth: new Uint8Array([0]) }))
    expect(await closed).toEqual([CloseCode.PeerRejected, `peer protocol ${version} not supported; this relay speaks ${PEER_PROTOCOL_VERSION}`])
  })

  it("refuses a peer's sync-step1 for a document the peer's region may not hold", async () => {
    const policies = [{ match: 'eu-only/**', regions: ['eu'] }, { match: '**', regions: '*' }]
    const eu = await new Relay({ region: 'eu', logLevel: 'silent', policies }).start()
    cleanups.push(() => eu.close())
    const writer: RawClient = await connectRawClient(eu.url, 'eu-only/secret')
    cleanups.push(() => writer.close())
    writer.doc.getText('t').insert(0, 'PINNED-SECRET')
    await waitUntil([eu], () => docJson(eu, 'eu-only/secret')?.t === 'PINNED-SECRET')

    const rogue: RoguePeer = await connectRoguePeer(eu.url, 'us')
    cleanups.push(() => rogue.close())
    rogue.send([encodePeerSyncStep1('eu-only/secret', new Uint8Array([0])), encodePeerSyncStep1('shared/x', new Uint8Array([0]))])
    // The answer for the allowed document comes after the refusal, in order.
    await rogue.waitFor(isType('sync-step2', 'shared/x'))
    expect(rogue.received.some(isType('refused', 'eu-only/secret'))).toBe(true)
    expect(rogue.received.some(isType('sync-step2', 'eu-only/secret'))).toBe(false)
    expect(eu.audit.recent().some((e) => e.kind === 'peer-requested-disallowed-doc' && e.doc === 'eu-only/secret' && e.peerRegion === 'us')).toBe(true)
  })

  it('applies later frames while the write of an earlier one is still on its way to disk', async () => {
    const store = new GatedStore()
    const us = await new Relay({ region: 'us', logLevel: 'silent' }, { store }).start()
    cleanups.push(() => {
      store.releaseAppends()
      return us.close()
    })
    const rogue = await connectRoguePeer(us.url, 'eu')
    cleanups.push(() => rogue.close())
    store.holdAppends()
    rogue.send([encodeDelta('doc/a', updateWithText('first'), 'eu', Date.now(), 1)])
    await store.until((s) => s.appendsWaiting > 0)
    rogue.send([encodeDelta('doc/b', updateWithText('second'), 'eu', Date.now(), 2)])
    await within(5_000, 'the second frame being applied', waitUntil([us], () => docJson(us, 'doc/b')?.t === 'second'))
    // Nothing is acknowledged before it is durable.
    expect(rogue.received.some(isType('ack'))).toBe(false)
    store.releaseAppends()
    await rogue.waitFor((m): m is Extract<PeerMessage, { type: 'ack' }> => m.type === 'ack' && m.seq === 2)
    expect(rogue.received.filter(isType('ack')).map((m) => m.seq).sort()).toEqual([1, 2])
    expect((await store.stored('doc/a'))?.getText('t').toString()).toBe('first')
    expect((await store.stored('doc/b'))?.getText('t').toString()).toBe('second')
  })

  it('sends a short-cadence document on time even when a long-cadence one was queued first', async () => {
    const policies = [
      { match: 'slow/**', regions: '*', cadenceMs: 60_000 },
      { match: 'fast/**', regions: '*', cadenceMs: 50 },
      { match: '**', regions: '*' },
    ]
    const cluster: Cluster = await startCluster(['eu', 'us'], () => ({ policies }))
    cleanups.push(() => cluster.close())
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const us = cluster.node('us').relay
    const slow = await connectRawClient(eu.url, 'slow/doc')
    const fast = await connectRawClient(eu.url, 'fast/doc')
    cleanups.push(() => slow.close(), () => fast.close())
    slow.doc.getText('t').insert(0, 'held for a minute')
    await waitUntil([eu], () => docJson(eu, 'slow/doc') !== null && eu.mesh!.health()[0]!.backlogDocs === 1)
    fast.doc.getText('t').insert(0, 'fifty ms')
    await within(5_000, 'the fast document reaching us', waitUntil([us], () => docJson(us, 'fast/doc')?.t === 'fifty ms'))
    // The slow one is still waiting out its cadence, coalescing.
    expect(docJson(us, 'slow/doc')).toBeNull()
    expect(eu.mesh!.health()[0]!.backlogDocs).toBe(1)
  })

  it('claims no part of the feed for a new link before its catch-up has walked it', async () => {
    const store = new GatedStore(new MemoryDocStore())
    const cluster: Cluster = await startCluster(['eu', 'us'], () => ({ digestIntervalMs: 0 }), (region) => (region === 'eu' ? { store } : {}))
    cleanups.push(() => cluster.close())
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const us = cluster.node('us').relay
    const writeDurably = async (doc: string, text: string): Promise<void> => {
      const c = await connectRawClient(eu.url, doc)
      c.doc.getText('t').insert(0, text)
      await c.waitFor(() => (c.durable().get(c.doc.clientID) ?? 0) > 0, 'durable')
      await c.close()
    }
    const linkDown = new Promise((resolve) => eu.mesh!.once('session-close', resolve))
    cluster.cut('eu', 'us')
    await linkDown
    await writeDurably('doc/during-cut', 'only catch-up can carry this')
    const seqOfCutWrite = eu.store.lastSeq()
    // The new link's session waits for its stored cursor: its catch-up has not read the feed yet.
    store.holdMeta('cursor/us')
    cluster.heal('eu', 'us')
    await store.until((s) => s.waitingMeta.has('cursor/us'))
    const session = eu.mesh!.sessions().find((s) => s.peerRegion === 'us' && s.sendsDeltas)!
    // A live delta on the new link, acknowledged by us, must not claim the feed before it.
    // (Until catch-up runs, the only frames us sends on this link are acks.)
    const ackArrived = new Promise((resolve) => session.link.socket.on('message', resolve))
    await writeDurably('doc/live', 'sent as a delta')
    await waitUntil([us], () => docJson(us, 'doc/live')?.t === 'sent as a delta')
    await ackArrived
    await session.received()
    const raw = await store.inner.getMeta('cursor/us')
    const stored = raw ? (JSON.parse(new TextDecoder().decode(raw)) as { seq?: number }).seq ?? 0 : 0
    expect(stored).toBeLessThan(seqOfCutWrite)
    store.releaseMeta('cursor/us')
    await waitUntil([us], () => docJson(us, 'doc/during-cut')?.t === 'only catch-up can carry this')
  })
})
