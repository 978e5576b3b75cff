/**
 * Scenario 2, persistence: how many updates per second end up on disk.
 * Writers run closed-loop for a fixed time (persist-worker.ts); at the
 * deadline the server is SIGKILLed, its data directory is reopened with its
 * own storage code, and the stored updates are counted. For Meridian the
 * durable acks received by then are reported as well — every acked update
 * must be among the stored ones.
 */
import { startServer, type RunningServer } from '../systems.js'
import { removeTempDir, tempDir } from '../proc/tmp.js'
import type { PersistJob, PersistResult } from '../workers/persist-worker.js'
import type { CountJob } from '../workers/count-stored.js'
import { errorText, withWorker, type RunContext } from './context.js'

const SCENARIO = 'persistence'

export async function persistence(ctx: RunContext): Promise<void> {
  const p = ctx.profile.persistence
  const docs = Array.from({ length: p.docs }, (_, i) => `persist-${i}`)
  for (const system of ctx.systems) {
    if (!system.store) continue
    ctx.log(`persistence: ${system.id}`)
    const dir = tempDir(system.id)
    let server: RunningServer | null = null
    try {
      server = await startServer(system, dir)
      const running = server
      const durableAcks = system.store === 'meridian'
      const job: PersistJob = { target: server.target, docs, inflight: p.inflight, durationMs: p.durationMs, durableAcks }
      const result = await withWorker('workers/persist-worker.js', 'persistence writers', async (worker) => {
        const r = await worker.request<PersistResult>('run', job, p.durationMs + 60_000)
        await running.child.kill()
        return r
      })
      if (result.errors.length) throw new Error(result.errors.slice(0, 3).join('; '))
      const countJob: CountJob = { kind: system.store, dataDir: dir, docs }
      const counted = await withWorker('workers/count-stored.js', 'stored-update counter', (w) => w.request<{ stored: number }>('count', countJob, 120_000))
      const r = ctx.report
      r.add(SCENARIO, system.id, 'stored', counted.stored / result.seconds, 'updates/s')
      r.add(SCENARIO, system.id, 'sent', result.sent / result.seconds, 'updates/s')
      r.add(SCENARIO, system.id, 'stored of sent', (100 * counted.stored) / Math.max(1, result.sent), '%')
      if (durableAcks) {
        r.add(SCENARIO, system.id, 'durably acked', result.acked / result.seconds, 'updates/s')
        if (counted.stored < result.acked) {
          r.note(SCENARIO, `${system.id}: ${result.acked - counted.stored} acknowledged updates were NOT on disk after the kill (durability violation)`)
        }
      }
    } catch (err) {
      ctx.report.fail(SCENARIO, system.id, errorText(err))
      ctx.log(`  ${system.id} failed: ${errorText(err)}`)
    } finally {
      if (server) await server.child.kill()
      removeTempDir(dir)
    }
  }
  ctx.report.note(
    SCENARIO,
    `${p.docs} documents, one writer each, ${p.inflight} updates in flight per writer, ${p.durationMs / 1000} s; then SIGKILL and count what is on disk. ` +
      'Same closed loop for all: an update is in flight until an observer client on its document receives it; Meridian writers also count durable acks. ' +
      'y-leveldb and the Hocuspocus LevelDB store write without sync (like meridian-buffered). Hocuspocus stores the whole document on a 2 s debounce (at most every 10 s), so a short run may store nothing.',
  )
}

export const PERSISTENCE_COLUMNS = [
  { metric: 'stored', unit: 'updates/s', decimals: 0 },
  { metric: 'durably acked', unit: 'updates/s', decimals: 0 },
  { metric: 'sent', unit: 'updates/s', decimals: 0 },
  { metric: 'stored of sent', unit: '%', decimals: 1, ratio: false },
]
