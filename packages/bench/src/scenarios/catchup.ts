/**
 * Scenario 6, catch-up: two Meridian relays (eu, us; 40 ms one-way link).
 * N documents are written at eu and replicated; the link is cut; 1 % of the
 * documents change at eu; the link heals. Measured: time from the link being
 * back up (eu's new session) until us has durably confirmed eu's change feed
 * past the changes, the time from the heal itself (adds reconnect backoff),
 * and the bytes on both peer connections of the pair in that session.
 * Setup writes go straight into eu's relay process (IPC "seed"), not through
 * clients: they are not what is measured.
 */
import type { PeerHealth } from '@meridian/server'
import { REFERENCE, SYSTEMS } from '../systems.js'
import { errorText, sleep, type RunContext } from './context.js'
import { startMesh, type MeshCluster } from './mesh.js'

const SCENARIO = 'catchup'
const SEED_CHUNK = 500

interface CursorDone {
  doneAt: number
  sessionOpenedAt: number | null
  catchupDocs: number
}

export async function catchup(ctx: RunContext): Promise<void> {
  const p = ctx.profile.catchup
  const system = SYSTEMS.find((s) => s.id === REFERENCE)!
  for (const total of p.docCounts) {
    const changed = Math.max(1, Math.round(total * p.changedFraction))
    const row = `meridian ${total} docs`
    ctx.log(`catch-up: ${total} documents, ${changed} changed during the cut`)
    let cluster: MeshCluster | null = null
    try {
      cluster = await startMesh(system, ['eu', 'us'], () => 40, { idleEvictMs: 2000, peerBackoffMaxMs: 1000 })
      const eu = cluster.relay('eu').child
      const names = Array.from({ length: total }, (_, i) => `cu-${i}`)
      let seq = 0
      for (let i = 0; i < names.length; i += SEED_CHUNK) seq = await eu.request<number>('seed', { docs: names.slice(i, i + SEED_CHUNK), text: 'v1' }, 300_000)
      await eu.request('waitCursor', { region: 'us', seq }, 300_000)

      await cluster.cut('eu', 'us')
      await waitState(cluster, 'disconnected')
      const stride = Math.floor(total / changed)
      const changedDocs = Array.from({ length: changed }, (_, i) => names[i * stride]!)
      const target = await eu.request<number>('seed', { docs: changedDocs, text: '+v2' }, 300_000)
      await eu.request('resetCatchupStats')
      const healedAt = await eu.request<number>('now')
      await cluster.heal('eu', 'us')
      const done = await eu.request<CursorDone>('waitCursor', { region: 'us', seq: target }, 300_000)
      const linkBytes = (c: PeerHealth['counters']): number => (c ? c.wireBytesOut + c.wireBytesIn : 0)
      const [euHealth, usHealth] = await Promise.all([cluster.health('eu'), cluster.health('us')])
      const bytes = linkBytes(euHealth.peers.find((x) => x.region === 'us')?.counters ?? null) + linkBytes(usHealth.peers.find((x) => x.region === 'eu')?.counters ?? null)
      const r = ctx.report
      r.add(SCENARIO, row, 'changed docs', changed, 'docs')
      r.add(SCENARIO, row, 'docs sent in catch-up', done.catchupDocs, 'docs')
      r.add(SCENARIO, row, 'catch-up (link up → confirmed)', done.doneAt - (done.sessionOpenedAt ?? healedAt), 'ms')
      r.add(SCENARIO, row, 'heal → confirmed', done.doneAt - healedAt, 'ms')
      r.add(SCENARIO, row, 'bytes on the pair', bytes, 'bytes')
      r.add(SCENARIO, row, 'bytes per changed doc', bytes / changed, 'bytes')
    } catch (err) {
      ctx.report.fail(SCENARIO, row, errorText(err))
      ctx.log(`  catch-up ${total} failed: ${errorText(err)}`)
    } finally {
      await cluster?.close()
    }
  }
  ctx.report.note(
    SCENARIO,
    'Two relays, each in its own process, 40 ms one-way link (LinkProxy), idleEvictMs=2000 so the documents are idle and evicted as in production, reconnect backoff capped at 1 s. ' +
      '"link up → confirmed" runs from eu\'s new peer session to us confirming eu\'s change feed past the last change (durable at us); "heal → confirmed" adds reconnect backoff. ' +
      'Bytes: both directions of both peer sockets of the pair (each relay dials the other), as counted by the relays, including handshake, acks and catch-up framing.',
  )
}

async function waitState(cluster: MeshCluster, state: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const [eu, us] = await Promise.all([cluster.health('eu'), cluster.health('us')])
    const states = [...eu.peers, ...us.peers].map((peer) => peer.state)
    if (states.every((s) => s !== 'connected') && state === 'disconnected') return
    if (Date.now() > deadline) throw new Error(`links not ${state} within 30 s (${states.join(',')})`)
    await sleep(20)
  }
}

export const CATCHUP_COLUMNS = [
  { metric: 'changed docs', unit: 'docs', decimals: 0, ratio: false },
  { metric: 'docs sent in catch-up', unit: 'docs', decimals: 0, ratio: false },
  { metric: 'catch-up (link up → confirmed)', unit: 'ms', decimals: 1, ratio: false },
  { metric: 'heal → confirmed', unit: 'ms', decimals: 1, ratio: false },
  { metric: 'bytes on the pair', unit: 'bytes', decimals: 0, ratio: false },
  { metric: 'bytes per changed doc', unit: 'bytes', decimals: 1, ratio: false },
]
