/**
 * Runs one schedule against a fresh cluster, heals everything, waits for the
 * cluster to settle, and checks the invariants.
 */
import fc from 'fast-check'
import { SimCluster, type SimOptions } from './sim-cluster.js'
import { checkConverged, checkResidency, type CheckResult } from './checker.js'
import { turn, type SimModel } from './commands.js'

const SETTLE_DEADLINE_MS = Number(process.env.MERIDIAN_SIM_SETTLE_MS ?? 10_000)

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

export interface ScheduleOutcome extends CheckResult {
  delivered: number
  dropped: number
  duplicated: number
}

export const runSchedule = async (
  options: SimOptions,
  commands: Iterable<fc.AsyncCommand<SimModel, SimCluster>>,
): Promise<ScheduleOutcome> => {
  const cluster = new SimCluster(options)
  try {
    for (const region of cluster.regions) await cluster.startRelay(region)
    cluster.clients.forEach((c, i) => cluster.connectClient(c, i))
    const residency: string[] = []
    const model: SimModel = { down: new Set(), offline: new Set() }
    await fc.asyncModelRun(() => ({ model, real: cluster }), wrapWithResidencyCheck(commands, cluster, residency))
    // Heal: every link, every relay, every client back home.
    cluster.network.healAll()
    for (const region of cluster.regions) await cluster.startRelay(region)
    cluster.clients.forEach((c, i) => {
      c.detach()
      cluster.connectClient(c, i)
    })
    const settled = await settle(cluster)
    for (const slot of cluster.slots) await slot.relay!.flush()
    const result = await checkConverged(cluster)
    if (process.env.SIM_DEBUG && result.divergences.length) {
      const Y = await import('yjs')
      const svOf = (d: import('yjs').Doc) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(d))])
      for (const slot of cluster.slots) {
        const r = slot.relay!
        const stored = await r.store.loadDoc('shared/doc')
        const d = new Y.Doc(); if (stored?.snapshot) Y.applyUpdate(d, stored.snapshot); for (const u of stored?.log ?? []) Y.applyUpdate(d, u)
        const live = r.docs.peek('shared/doc')
        console.error(slot.region, 'store', svOf(d), 'live', live ? svOf(live.doc) : '-', 'pending', live ? !!live.doc.store.pendingStructs : '-', 'feed', r.store.lastSeq(), 'peers', JSON.stringify(r.mesh!.health().map(p => [p.region, p.state, p.cursor, p.inboundConnected])), 'crashes', slot.crashes)
      }
      for (const c of cluster.clients) console.error(c.name, c.docName, 'id', c.clientId, 'region', c.region, 'own', c.ownClock, 'acked', c.ackedClock, 'sv', svOf(c.doc))
    }
    result.residencyViolations.push(...residency)
    if (!settled) {
      const links = cluster.slots.map((s) => `${s.region} (feed ${s.relay?.store.lastSeq()}): ${JSON.stringify(s.relay?.mesh?.health().map((p) => [p.region, p.state, p.inboundConnected, p.cursor]))}`)
      const clients = cluster.clients.filter((c) => !c.socket?.isOpen).map((c) => `${c.name}(${c.docName}) refusals=${c.refusals.join(',')}`)
      result.divergences.push(`cluster did not settle before the deadline; links ${links.join('; ')}; offline clients ${clients.join(', ')}; pending ${cluster.network.pendingCount}`)
    }
    return { ...result, ...cluster.network.stats }
  } finally {
    await cluster.close()
  }
}

function* wrapWithResidencyCheck(
  commands: Iterable<fc.AsyncCommand<SimModel, SimCluster>>,
  cluster: SimCluster,
  seen: string[],
): Iterable<fc.AsyncCommand<SimModel, SimCluster>> {
  for (const cmd of commands) {
    yield cmd
    checkResidency(cluster, seen)
  }
}

/**
 * Delivers everything until the cluster is quiet: all peer links up, no
 * message pending, every client synced with a relay. Bounded by a deadline.
 */
const settle = async (cluster: SimCluster): Promise<boolean> => {
  const deadline = Date.now() + SETTLE_DEADLINE_MS
  let quietRounds = 0
  while (Date.now() < deadline) {
    const delivered = cluster.network.drainInOrder()
    await turn()
    // Links up is not enough: a catch-up whose messages a faulty link dropped
    // waits for its watchdog with nothing in flight. Settled means every
    // relay's whole change feed is confirmed by every peer.
    const allUp = cluster.slots.every((s) => s.relay?.mesh?.settled())
    const clientsUp = cluster.clients.every((c) => c.socket?.isOpen)
    if (delivered === 0 && cluster.network.pendingCount === 0 && allUp && clientsUp) {
      if (++quietRounds >= 5) return true
    } else quietRounds = 0
    // Relays' own timers (reconnect backoff, watchdogs) need real time.
    await tick()
  }
  return false
}
