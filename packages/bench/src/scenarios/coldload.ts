/**
 * Scenario 4, cold load: a large document (synthetic editing session, see
 * coldload-worker.ts) is stored through each server; the server is stopped
 * cleanly and started again on the same data directory, and a fresh client
 * times connect → whole document received. Each sample is a new restart.
 */
import path from 'node:path'
import { startServer, type RunningServer } from '../systems.js'
import { removeTempDir, tempDir } from '../proc/tmp.js'
import { median } from '../report/stats.js'
import type { GenerateResult } from '../workers/coldload-worker.js'
import { errorText, withWorker, type RunContext } from './context.js'

const SCENARIO = 'coldload'
const DOC = 'big-document'

export async function coldload(ctx: RunContext): Promise<void> {
  const p = ctx.profile.coldload
  const genDir = tempDir('coldload-source')
  try {
    await withWorker('workers/coldload-worker.js', 'cold-load client', async (worker) => {
      const file = path.join(genDir, 'doc.bin')
      ctx.log(`cold load: generating a ${p.edits}-edit document`)
      const gen = await worker.request<GenerateResult>('generate', { edits: p.edits, seed: 20240611, file }, 600_000)
      ctx.report.note(SCENARIO, `Document: ${p.edits.toLocaleString('en-US')} single-character edits (80 % inserts, 20 % deletes) on one Y.Text; ${gen.textLength.toLocaleString('en-US')} characters remain; encoded state ${(gen.bytes / 1024).toFixed(0)} KiB (generated in ${(gen.ms / 1000).toFixed(1)} s).`)
      // Durability only changes how the upload is written, not how a document loads.
      for (const system of ctx.systems.filter((s) => s.id !== 'meridian-buffered')) {
        if (!system.store) continue
        ctx.log(`cold load: ${system.id}`)
        const dir = tempDir(system.id)
        let server: RunningServer | null = null
        try {
          server = await startServer(system, dir)
          const uploadMs = await worker.request<number>('upload', { target: server.target, doc: DOC, file, stateVector: gen.stateVector }, 180_000)
          await server.child.stop(60_000)
          server = null
          const samples: number[] = []
          for (let i = 0; i < p.samples; i++) {
            server = await startServer(system, dir)
            samples.push(await worker.request<number>('load', { target: server.target, doc: DOC, stateVector: gen.stateVector }, 180_000))
            await server.child.stop(60_000)
            server = null
          }
          ctx.report.add(SCENARIO, system.id, 'cold load', median(samples), 'ms')
          ctx.report.add(SCENARIO, system.id, 'first upload', uploadMs, 'ms')
        } catch (err) {
          ctx.report.fail(SCENARIO, system.id, errorText(err))
          ctx.log(`  ${system.id} failed: ${errorText(err)}`)
        } finally {
          if (server) await server.child.kill()
          removeTempDir(dir)
        }
      }
    })
  } finally {
    removeTempDir(genDir)
  }
  ctx.report.note(SCENARIO, `Cold load = connect → the client has received data covering the whole state vector, on a server restarted on the stored data (median of ${p.samples}). First upload = connect, send the document as one update, until the server's sync answer covers it. bare-ws has no storage; meridian-buffered loads the same bytes as meridian and is not repeated.`)
}

export const COLDLOAD_COLUMNS = [
  { metric: 'cold load', unit: 'ms', decimals: 0 },
  { metric: 'first upload', unit: 'ms', decimals: 0 },
]
