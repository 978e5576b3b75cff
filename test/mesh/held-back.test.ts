/**
 * Held-back updates (their dependencies had not arrived) are released by a
 * later update, and Yjs reports both as one change, under the later one's
 * origin. Neither the sender of that later update nor the peers may be
 * skipped on the strength of that origin: the change carries someone else's
 * content. Found by the cluster simulation (seed 1, schedules 756 and 6550).
 * And a held-back peer update is acknowledged to its peer, so it must be on
 * disk: a crash before its dependencies arrive must not lose it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeDelta, encodeSyncUpdate, type PeerMessage } from '@meridian/core'
import { Relay } from '@meridian/server'
import { startCluster, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { connectRoguePeer } from '../support/rogue-peer.js'
import { makeTempDir } from '../support/temp-dir.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** X: "x" by one client; Y: "y" after it by another, so Y cannot be integrated without X. */
const dependentPair = (): { x: Uint8Array; y: Uint8Array } => {
  const a = new Y.Doc()
  a.getText('t').insert(0, 'x')
  const x = Y.encodeStateAsUpdate(a)
  const b = new Y.Doc()
  Y.applyUpdate(b, x)
  const before = Y.encodeStateVector(b)
  b.getText('t').insert(1, 'y')
  return { x, y: Y.encodeStateAsUpdate(b, before) }
}

const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

const open = async (url: string, doc: string): Promise<RawClient> => {
  const c = await connectRawClient(url, doc)
  cleanups.push(() => c.close())
  await c.waitFor(() => c.messages.some((m) => m.type === 'sync-step2'), 'initial sync')
  return c
}

describe('held-back updates', () => {
  it('the client whose update released held-back content receives that content', async () => {
    const relay = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
    cleanups.push(() => relay.close())
    const { x, y } = dependentPair()
    const first = await open(relay.url, 'doc/held')
    const second = await open(relay.url, 'doc/held')
    // `second` sends y alone: the relay holds it back, waiting for x.
    second.ws.send(encodeSyncUpdate(y))
    await new Promise<void>((resolve) => {
      const check = (): void => (relay.docs.peek('doc/held')?.pendingBytes() ? resolve() : void setImmediate(check))
      check()
    })
    // `first` sends x, which releases y: the relay's change is x and y together.
    Y.applyUpdate(first.doc, x)
    await within(5_000, 'the released content reaching its releaser', first.waitFor(() => first.doc.getText('t').toString() === 'xy', 'xy'))
  })

  it('a change a peer update made by releasing a client update is sent on to the peers', async () => {
    const cluster: Cluster = await startCluster(['eu', 'us'], () => ({ digestIntervalMs: 0 }))
    cleanups.push(() => cluster.close())
    await cluster.connected()
    const { x, y } = dependentPair()
    const atEu = await open(cluster.node('eu').relay.url, 'doc/held')
    const atUs = await open(cluster.node('us').relay.url, 'doc/held')
    atEu.ws.send(encodeSyncUpdate(y))
    const eu = cluster.node('eu').relay
    await new Promise<void>((resolve) => {
      const check = (): void => (eu.docs.peek('doc/held')?.pendingBytes() ? resolve() : void setImmediate(check))
      check()
    })
    // x reaches eu from us as a peer delta and releases y there; only eu ever had y.
    Y.applyUpdate(atUs.doc, x)
    await within(5_000, "eu's released client content reaching us", atUs.waitFor(() => atUs.doc.getText('t').toString() === 'xy', 'xy at us'))
    expect(atEu.doc.getText('t').toString()).toBe('xy')
  })

  it('keeps a held-back peer update it acknowledged across a crash, until its dependencies arrive', async () => {
    const dir = await makeTempDir()
    cleanups.push(dir.remove)
    const options = { region: 'us', logLevel: 'silent', dataDir: dir.path, durability: 'buffered' } as const
    const us = await new Relay(options).start()
    const { x, y } = dependentPair()
    // eu sends y, whose dependency x (from a third region) us does not have yet.
    const eu = await connectRoguePeer(us.url, 'eu')
    eu.send([encodeDelta('doc/held', y, 'eu', Date.now(), 1)])
    await eu.waitFor((m): m is Extract<PeerMessage, { type: 'ack' }> => m.type === 'ack' && m.seq === 1)
    // Acknowledged: eu's cursor moves past it and eu will not send it again.
    await eu.close()
    await us.crash()
    const again = await new Relay(options).start()
    cleanups.push(() => again.close())
    const client = await open(again.url, 'doc/held')
    Y.applyUpdate(client.doc, x)
    await within(5_000, 'the held-back update surviving the crash', client.waitFor(() => client.doc.getText('t').toString() === 'xy', 'xy'))
  })
})
