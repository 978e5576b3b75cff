/**
 * Scenario 3, memory: the server's heap (after forced full GCs, reported by
 * the server process itself) per loaded document with one connection, and per
 * document after every connection closed and the server unloaded it.
 * A warm-up cycle of as many documents (open, close, unload) runs first, so
 * that lazily created modules, JIT code and Node's pools sized by peak
 * concurrency (HTTP parsers) are in the baseline, not in the per-document
 * figure: with a small warm-up, that one-off residue divided by N looked
 * like a cost per evicted document.
 */
import type { HeapReport } from '../proc/child-side.js'
import type { MemoryJob } from '../workers/memory-worker.js'
import { errorText, sleep, withServer, withWorker, type RunContext } from './context.js'

const SCENARIO = 'memory'
const KB = 1024

export async function memory(ctx: RunContext): Promise<void> {
  const p = ctx.profile.memory
  // Durability changes no data structure in memory; one Meridian row is enough.
  for (const system of ctx.systems.filter((s) => s.id !== 'meridian-buffered')) {
    for (const count of p.docCounts) {
      ctx.log(`memory: ${system.id}, ${count} documents`)
      try {
        await withServer(system, { idleEvictMs: p.evictMs }, (server) =>
          withWorker('workers/memory-worker.js', 'memory clients', async (worker) => {
            const heap = (): Promise<HeapReport> => server.child.request<HeapReport>('heap', null, 60_000)
            const job = (prefix: string, docs: number): MemoryJob => ({ target: server.target, prefix, docs, concurrency: 200 })
            const settle = (): Promise<void> => sleep(p.evictMs + 700)
            await worker.request('open', job('warm', count), 600_000)
            await worker.request('close', null, 60_000)
            await settle()
            const base = await heap()
            await worker.request('open', job('doc', count), 600_000)
            const loaded = await heap()
            await worker.request('close', null, 120_000)
            await settle()
            // Unloading may finish in stages (stores, timers); take the lower of two readings.
            const first = await heap()
            await sleep(500)
            const second = await heap()
            const evicted = Math.min(first.heapUsed, second.heapUsed)
            const r = ctx.report
            r.add(SCENARIO, system.id, `loaded heap/doc @${count}`, (loaded.heapUsed - base.heapUsed) / count / KB, 'KB')
            r.add(SCENARIO, system.id, `evicted heap/doc @${count}`, (evicted - base.heapUsed) / count, 'bytes')
            r.add(SCENARIO, system.id, `loaded rss/doc @${count}`, (loaded.rss - base.rss) / count / KB, 'KB')
          }),
        )
      } catch (err) {
        ctx.report.fail(SCENARIO, system.id, errorText(err))
        ctx.log(`  ${system.id} failed: ${errorText(err)}`)
      }
    }
  }
  ctx.report.note(
    SCENARIO,
    `Each document: one connection and a 12-character Y.Text. Heap = V8 heapUsed after forced GC in the server process (--expose-gc), minus the baseline after a warm-up cycle of as many documents (opened, closed, unloaded). ` +
      `"Evicted" is the lower of two readings ${p.evictMs / 1000 + 0.7} s and ${p.evictMs / 1000 + 1.2} s after all connections closed; Meridian runs with idleEvictMs=${p.evictMs} here (default 30 000), y-websocket and Hocuspocus unload on last disconnect. ` +
      'The bare relay keeps only sockets, so its loaded figure is the cost of a connection without Yjs. RSS includes native LevelDB caches and is noisy.',
  )
}

export function memoryColumns(counts: number[]): { metric: string; unit: string; decimals: number; ratio?: boolean }[] {
  return counts.flatMap((c) => [
    { metric: `loaded heap/doc @${c}`, unit: 'KB', decimals: 2 },
    { metric: `evicted heap/doc @${c}`, unit: 'bytes', decimals: 0 },
    { metric: `loaded rss/doc @${c}`, unit: 'KB', decimals: 1, ratio: false },
  ])
}
