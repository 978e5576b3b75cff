/**
 * Meridian relay under test, in its own process. Options are the relay's
 * defaults except: logging off, and the per-connection rate limit raised
 * out of the way (no other server under test has one, and a closed-loop load
 * generator would otherwise measure the limiter, not the relay).
 *
 * Extra commands used by the mesh scenarios: addPeer, health, seed (writes
 * documents directly, as setup for catch-up), waitCursor (catch-up timing).
 */
import * as Y from 'yjs'
import { Relay } from '@meridian/server'
import { announceListening, jobParams, serve, serverHandlers } from '../proc/child-side.js'

interface Params {
  region: string
  dataDir: string
  durability: 'fsync' | 'buffered'
  idleEvictMs?: number
  peerBackoffMaxMs?: number
  policies?: unknown[]
}

const p = jobParams<Params>()
const relay = new Relay({
  region: p.region,
  dataDir: p.dataDir,
  durability: p.durability,
  logLevel: 'silent',
  rateLimitPerSecond: 10_000_000,
  rateLimitBurst: 10_000_000,
  ...(p.idleEvictMs !== undefined ? { idleEvictMs: p.idleEvictMs } : {}),
  ...(p.policies !== undefined ? { policies: p.policies } : {}),
  ...(p.peerBackoffMaxMs !== undefined ? { peerBackoffBaseMs: Math.min(50, p.peerBackoffMaxMs), peerBackoffMaxMs: p.peerBackoffMaxMs } : {}),
})
await relay.start()
const mesh = relay.mesh
if (!mesh) throw new Error('relay has no mesh after start')

// Timestamps of mesh events, so catch-up can be timed inside this process
// from the moment the link came back, independent of reconnect backoff.
const sessionOpenedAt = new Map<string, number>()
const catchupDocs = new Map<string, number>()
mesh.on('session-open', (session: { peerRegion: string }) => sessionOpenedAt.set(session.peerRegion, performance.now()))
mesh.on('catchup-sent', (region: string, docs: number) => catchupDocs.set(region, (catchupDocs.get(region) ?? 0) + docs))

const writeText = async (doc: string, text: string): Promise<void> => {
  const live = await relay.docs.acquire(doc)
  const src = new Y.Doc()
  Y.applyUpdate(src, Y.encodeStateAsUpdate(live.doc))
  const before = Y.encodeStateVector(src)
  src.getText('t').insert(src.getText('t').length, text)
  live.apply(Y.encodeStateAsUpdate(src, before), { kind: 'client', connectionId: 0 })
  src.destroy()
}

serve({
  ...serverHandlers(() => relay.close()),
  health: () => relay.health(),
  lastSeq: async () => {
    await relay.flush()
    return relay.store.lastSeq()
  },
  addPeer: (peer: { region: string; url: string }) => relay.addPeer(peer),
  fullyConnected: () => mesh.fullyConnected(),
  seed: async (args: { docs: string[]; text: string }) => {
    for (const doc of args.docs) await writeText(doc, args.text)
    await relay.flush()
    return relay.store.lastSeq()
  },
  resetCatchupStats: () => {
    catchupDocs.clear()
    sessionOpenedAt.clear()
  },
  /** Resolves when `region` has confirmed our change feed up to `seq`. */
  waitCursor: (args: { region: string; seq: number }) =>
    new Promise((resolve) => {
      const cursorOf = (): number => mesh.health().find((h) => h.region === args.region)?.cursor ?? -1
      const done = (): void => {
        mesh.off('cursor', check)
        resolve({ doneAt: performance.now(), sessionOpenedAt: sessionOpenedAt.get(args.region) ?? null, catchupDocs: catchupDocs.get(args.region) ?? 0 })
      }
      const check = (): void => {
        if (cursorOf() >= args.seq) done()
      }
      mesh.on('cursor', check)
      check()
    }),
  now: () => performance.now(),
})
announceListening(relay.port, { relayId: relay.relayId })
