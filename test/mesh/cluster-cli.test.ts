/**
 * Three regions as three `meridian relay` processes, started through the
 * public CLI the way an operator would (peers given as repeated --peer flags
 * for eu and us, in the config file for ap; one peer secret), with a
 * LinkProxy in front of every peer link so the test can partition regions.
 * Shown across real processes: concurrent edits converge; each update
 * crosses each link once; a partition heals and catch-up sends only what
 * changed; a relay SIGKILLed during writes loses nothing it acknowledged and
 * catches up on restart; a pinned document's bytes never reach another
 * region's data directory while unpinned ones travel the same links; SIGTERM
 * stops every relay with exit 0.
 *
 * Waits on documents are driven by the clients' messages; state inside
 * another process can only be read by asking it (/healthz, /metrics), so
 * those waits poll with a deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as Y from 'yjs'
import { CloseCode } from '@meridian/core'
import { LinkProxy, type HealthReport } from '@meridian/server'
import { makeTempDir } from '../support/temp-dir.js'
import { reservePort } from '../support/ports.js'
import { startRelayProcess, type RelayProcess } from '../support/relay-process.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { parsePromText, samplesOf } from '../../packages/server/test/observability/prom-text.js'

const REGIONS = ['eu', 'us', 'ap'] as const
type Region = (typeof REGIONS)[number]
const PEER_SECRET = 'cluster-cli-test-secret'
const POLICIES = [
  { match: 'eu-only/**', regions: ['eu'] },
  { match: '**', regions: '*' },
]

interface Node {
  region: Region
  port: number
  dir: string
  args: string[]
  proc: RelayProcess | null
}

const nodes = new Map<Region, Node>()
const proxies = new Map<string, LinkProxy>()
const cleanups: (() => Promise<unknown>)[] = []
const clients: RawClient[] = []
const node = (r: Region): Node => nodes.get(r)!
const httpOf = (r: Region): string => `http://127.0.0.1:${node(r).port}`
const wsOf = (r: Region): string => `ws://127.0.0.1:${node(r).port}`
const proxy = (from: Region, to: Region): LinkProxy => proxies.get(`${from}->${to}`)!

const health = async (r: Region): Promise<HealthReport> => (await fetch(`${httpOf(r)}/healthz`)).json() as Promise<HealthReport>
const peerOf = (h: HealthReport, region: Region) => h.peers.find((p) => p.region === region)!
const metric = async (r: Region, name: string, labels: Record<string, string>): Promise<number> => {
  const { samples } = parsePromText(await (await fetch(`${httpOf(r)}/metrics`)).text())
  return samplesOf(samples, name, labels).reduce((n, s) => n + s.value, 0)
}

/** Polls another process's state until `check` holds (no event crosses a process boundary). */
const eventually = async (check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const fullyConnected = (r: Region) => async (): Promise<boolean> => {
  const h = await health(r)
  return h.peers.length === 2 && h.peers.every((p) => p.state === 'connected' && p.inboundConnected)
}
const allConnected = async (): Promise<void> => {
  for (const r of REGIONS) await eventually(fullyConnected(r), `${r} fully connected`)
}

/** Every peer's cursor has reached this relay's feed: everything it accepted is durable at its peers. */
const replicatedFrom = (r: Region) => async (): Promise<boolean> => {
  const h = await health(r)
  return h.peers.every((p) => p.cursor === h.feedSeq && p.backlogDocs === 0)
}

const start = async (r: Region): Promise<void> => {
  const n = node(r)
  n.proc = await startRelayProcess(n.args)
}

const open = async (r: Region, doc: string): Promise<RawClient> => {
  const c = await connectRawClient(wsOf(r), doc)
  clients.push(c)
  return c
}

const text = (c: RawClient): string => c.doc.getText('t').toString()

const cutRegion = (r: Region): void => {
  for (const other of REGIONS) {
    if (other === r) continue
    proxy(r, other).cutLink()
    proxy(other, r).cutLink()
  }
}
const healRegion = (r: Region): void => {
  for (const other of REGIONS) {
    if (other === r) continue
    proxy(r, other).heal()
    proxy(other, r).heal()
  }
}

beforeAll(async () => {
  for (const region of REGIONS) {
    const dir = await makeTempDir()
    cleanups.push(dir.remove)
    nodes.set(region, { region, port: await reservePort(), dir: dir.path, args: [], proc: null })
  }
  for (const from of REGIONS) {
    for (const to of REGIONS) {
      if (from === to) continue
      const p = new LinkProxy({ targetPort: node(to).port })
      await p.start()
      proxies.set(`${from}->${to}`, p)
    }
  }
  for (const r of REGIONS) {
    const n = node(r)
    const peers = REGIONS.filter((o) => o !== r).map((o) => ({ region: o, url: `ws://127.0.0.1:${proxy(r, o).port}` }))
    const config = join(n.dir, '..', `${r}-${n.port}.json`)
    // ap takes its peers from the config file; eu and us from repeated --peer flags.
    await writeFile(config, JSON.stringify(r === 'ap' ? { policies: POLICIES, peers } : { policies: POLICIES }))
    cleanups.push(() => rm(config, { force: true }))
    const peerFlags = r === 'ap' ? [] : peers.flatMap((p) => ['--peer', `${p.region}=${p.url}`])
    n.args = ['--region', r, '--port', String(n.port), '--data', n.dir, '--durability', 'buffered', '--config', config, '--peer-secret', PEER_SECRET, ...peerFlags]
  }
  await Promise.all(REGIONS.map(start))
  await allConnected()
}, 60_000)

const closeClients = async (): Promise<void> => {
  for (const c of clients.splice(0)) await c.close()
}

afterAll(async () => {
  await closeClients()
  for (const n of nodes.values()) await n.proc?.kill('SIGKILL')
  for (const p of proxies.values()) await p.close()
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('three relay processes started through the CLI', () => {
  it('converge concurrent edits made in every region', async () => {
    const writers = await Promise.all(REGIONS.map((r) => open(r, 'shared/concurrent')))
    writers.forEach((w, i) => w.doc.getText('t').insert(0, `<${REGIONS[i]}>`))
    await Promise.all(writers.map((w) => w.waitFor(() => text(w).length === 12, 'all three edits')))
    expect(new Set(writers.map(text)).size).toBe(1)
    const sv = writers.map((w) => Buffer.from(Y.encodeStateVector(w.doc)).toString('hex'))
    expect(new Set(sv).size).toBe(1)
  })

  it('send each update across each link once: from its origin, never on from a receiver', async () => {
    const before = new Map(await Promise.all(REGIONS.map(async (r) => [r, await health(r)] as const)))
    const writer = await open('eu', 'echo/doc')
    const readers = [await open('us', 'echo/doc'), await open('ap', 'echo/doc')]
    const updates = 20
    for (let i = 0; i < updates; i++) {
      writer.doc.getText('t').insert(i, 'e')
      await Promise.all(readers.map((c) => c.waitFor(() => text(c).length === i + 1, `update ${i}`)))
    }
    const deltas = async (from: Region, to: Region): Promise<number> =>
      peerOf(await health(from), to).counters!.deltasOut - peerOf(before.get(from)!, to).counters!.deltasOut
    expect(await deltas('eu', 'us')).toBe(updates)
    expect(await deltas('eu', 'ap')).toBe(updates)
    for (const [from, to] of [['us', 'eu'], ['us', 'ap'], ['ap', 'eu'], ['ap', 'us']] as const) expect(await deltas(from, to)).toBe(0)
  })

  it('heal a partition; catch-up sends only the documents that changed during the cut', async () => {
    const docs = 60
    for (let i = 0; i < docs; i++) {
      const c = await open('eu', `many/${i}`)
      c.doc.getText('t').insert(0, 'v1')
      await c.waitFor(() => (c.durable().get(c.doc.clientID) ?? 0) > 0, 'durable')
      await c.close()
    }
    await eventually(replicatedFrom('eu'), 'eu replicated everywhere')
    const catchupDocsBefore = await metric('eu', 'meridian_catchup_documents_sum', { peer_region: 'ap' })

    cutRegion('ap')
    await eventually(async () => peerOf(await health('eu'), 'ap').state !== 'connected', 'eu sees ap cut')
    const changed = [3, 17, 42]
    for (const i of changed) {
      const c = await open('eu', `many/${i}`)
      await c.waitFor(() => text(c) === 'v1', 'loaded')
      c.doc.getText('t').insert(2, '+v2')
      await c.waitFor(() => (c.durable().get(c.doc.clientID) ?? 0) > 0, 'durable')
    }
    const euSide = await open('eu', 'part/doc')
    const apSide = await open('ap', 'part/doc')
    euSide.doc.getText('t').insert(0, 'eu-side ')
    apSide.doc.getText('t').insert(0, 'ap-side ')
    await euSide.waitFor(() => (euSide.durable().get(euSide.doc.clientID) ?? 0) > 0, 'eu durable')
    await apSide.waitFor(() => (apSide.durable().get(apSide.doc.clientID) ?? 0) > 0, 'ap durable')
    expect(text(apSide)).toBe('ap-side ')

    healRegion('ap')
    await allConnected()
    await Promise.all([euSide, apSide].map((c) => c.waitFor(() => text(c).includes('eu-side') && text(c).includes('ap-side'), 'converged')))
    expect(text(euSide)).toBe(text(apSide))
    await eventually(replicatedFrom('eu'), 'eu caught ap up')
    const sent = (await metric('eu', 'meridian_catchup_documents_sum', { peer_region: 'ap' })) - catchupDocsBefore
    console.log(`cluster-cli catch-up: eu sent ${sent} documents to ap after the cut (${changed.length + 1} changed; more than ${docs} held)`)
    expect(sent).toBe(changed.length + 1)
    for (const i of changed) {
      const reader = await open('ap', `many/${i}`)
      await reader.waitFor(() => text(reader) === 'v1+v2', `many/${i} at ap`)
    }
  })

  it('lose nothing a SIGKILLed relay acknowledged, and catch it up on restart', async () => {
    const writer = await open('us', 'kill/doc')
    const total = 300
    let attempted = 0
    let ackedAtKill = -1
    const acked = (): number => writer.durable().get(writer.doc.clientID) ?? 0
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (writer.ws.readyState !== writer.ws.OPEN || attempted === total) {
          clearInterval(timer)
          return resolve()
        }
        writer.doc.getArray('a').push([attempted++])
        if (ackedAtKill < 0 && acked() >= 50) {
          ackedAtKill = acked()
          node('us').proc!.child.kill('SIGKILL')
        }
      }, 2)
    })
    expect((await node('us').proc!.exited).signal).toBe('SIGKILL')
    const acknowledged = acked()
    // Written in eu while us is down: us must receive these on restart.
    const euWriter = await open('eu', 'kill/doc')
    euWriter.doc.getMap('m').set('while-us-was-down', true)
    await euWriter.waitFor(() => (euWriter.durable().get(euWriter.doc.clientID) ?? 0) > 0, 'eu durable')

    await start('us')
    await allConnected()
    const present: Record<string, number> = {}
    for (const r of REGIONS) {
      const reader = await open(r, 'kill/doc')
      await reader.waitFor(
        () => Y.encodeStateVector(reader.doc).length > 0 && (Y.decodeStateVector(Y.encodeStateVector(reader.doc)).get(writer.doc.clientID) ?? 0) >= acknowledged && reader.doc.getMap('m').get('while-us-was-down') === true,
        `everything acknowledged present in ${r}`,
      )
      present[r] = Y.decodeStateVector(Y.encodeStateVector(reader.doc)).get(writer.doc.clientID) ?? 0
    }
    console.log(`cluster-cli SIGKILL: attempted ${attempted}, acknowledged ${acknowledged} (${ackedAtKill} at the kill), present ${JSON.stringify(present)}`)
    expect(ackedAtKill).toBeGreaterThanOrEqual(50)
    expect(attempted).toBeLessThan(total + 1)
    for (const r of REGIONS) expect(present[r]).toBeGreaterThanOrEqual(acknowledged)
  })

  it('keep a pinned document in its region while unpinned ones travel the same links; stop cleanly on SIGTERM', async () => {
    const secret = `PINNED-${Math.random().toString(36).slice(2, 12)}`
    const open1 = `OPEN-${Math.random().toString(36).slice(2, 12)}`
    const pinned = await open('eu', 'eu-only/secret')
    const unpinned = await open('eu', 'shared/open')
    pinned.doc.getText('t').insert(0, secret)
    unpinned.doc.getText('t').insert(0, open1)
    await pinned.waitFor(() => (pinned.durable().get(pinned.doc.clientID) ?? 0) > 0, 'pinned durable')
    for (const r of ['us', 'ap'] as const) {
      const reader = await open(r, 'shared/open')
      await reader.waitFor(() => text(reader) === open1, `open doc at ${r}`)
      const refused = await connectRawClient(wsOf(r), 'eu-only/secret')
      const { code, reason } = await refused.closed
      expect(code).toBe(CloseCode.WrongRegion)
      expect(reason).toMatch(/regions=eu$/)
    }
    await eventually(replicatedFrom('eu'), 'eu replicated everywhere')

    await closeClients()
    const exits = await Promise.all(REGIONS.map((r) => node(r).proc!.kill('SIGTERM')))
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0])
    for (const n of nodes.values()) n.proc = null
    const contains = async (dir: string, needle: string): Promise<boolean> => {
      for (const name of await readdir(dir, { recursive: true })) {
        const bytes = await readFile(join(dir, name)).catch(() => null)
        if (bytes?.includes(needle)) return true
      }
      return false
    }
    expect(await contains(node('eu').dir, secret)).toBe(true)
    for (const r of ['us', 'ap'] as const) {
      expect(await contains(node(r).dir, open1)).toBe(true)
      expect(await contains(node(r).dir, secret)).toBe(false)
    }
  })
})
