/**
 * Scenario 1, fan-out: N clients on one document (see fanout-worker.ts for
 * the closed loop). Each system gets a fresh server per round; rounds
 * interleave the systems so that background load on a shared machine hits
 * them alike, and the median round is reported.
 */
import type { FanoutJob, FanoutResult } from '../workers/fanout-worker.js'
import { median } from '../report/stats.js'
import { errorText, withServer, withWorker, type RunContext } from './context.js'

const SCENARIO = 'fanout'

export async function fanout(ctx: RunContext): Promise<void> {
  const p = ctx.profile.fanout
  const results = new Map<string, { sat: FanoutResult; light: FanoutResult }[]>()
  const failed = new Set<string>()
  for (let round = 1; round <= p.rounds; round++) {
    for (const system of ctx.systems) {
      if (failed.has(system.id)) continue
      ctx.log(`fan-out round ${round}/${p.rounds}: ${system.id}`)
      try {
        const r = await withServer(system, {}, (server) =>
          withWorker('workers/fanout-worker.js', 'fan-out clients', async (worker) => {
            const base = { target: server.target, clients: p.clients, inflight: p.inflight, ratePerClient: p.rate }
            const timeout = (ms: number): number => ms + 60_000
            const lightJob: FanoutJob = { ...base, doc: `light-${round}`, mode: 'rate', warmupMs: p.lightWarmupMs, durationMs: p.lightDurationMs }
            const light = await worker.request<FanoutResult>('run', lightJob, timeout(p.lightWarmupMs + p.lightDurationMs))
            const satJob: FanoutJob = { ...base, doc: `sat-${round}`, mode: 'saturate', warmupMs: p.warmupMs, durationMs: p.durationMs }
            const sat = await worker.request<FanoutResult>('run', satJob, timeout(p.warmupMs + p.durationMs))
            const errors = [...light.errors, ...sat.errors]
            if (errors.length) throw new Error(errors.slice(0, 3).join('; '))
            if (sat.delivered === 0) throw new Error('no update was delivered')
            return { sat, light }
          }),
        )
        const list = results.get(system.id) ?? []
        list.push(r)
        results.set(system.id, list)
      } catch (err) {
        failed.add(system.id)
        ctx.report.fail(SCENARIO, system.id, errorText(err))
        ctx.log(`  ${system.id} failed: ${errorText(err)}`)
      }
    }
  }
  for (const [system, runs] of results) {
    const add = (metric: string, unit: string, pick: (r: { sat: FanoutResult; light: FanoutResult }) => number): void =>
      ctx.report.add(SCENARIO, system, metric, median(runs.map(pick)), unit)
    add('saturated delivered', 'updates/s', (r) => r.sat.delivered / r.sat.seconds)
    add('saturated p50', 'ms', (r) => r.sat.latency.p50)
    add('saturated p99', 'ms', (r) => r.sat.latency.p99)
    add('frames per delivered update', 'frames', (r) => r.sat.framesIn / Math.max(1, r.sat.delivered))
    add('light p50', 'ms', (r) => r.light.latency.p50)
    add('light p99', 'ms', (r) => r.light.latency.p99)
    add('light delivered', 'updates/s', (r) => r.light.delivered / r.light.seconds)
  }
  ctx.report.note(
    SCENARIO,
    `${p.clients} clients on one document, each keeping ${p.inflight} one-character Y.Text updates in flight (sent, not yet seen by all other clients); ` +
      `light load: ${p.rate} updates/s per client. Deliveries counted per (update, receiver) from the Yjs content; ` +
      `median of ${p.rounds} round(s), ${p.durationMs / 1000} s (saturated) and ${p.lightDurationMs / 1000} s (light) each after warm-up. ` +
      'All clients run in one process separate from the server; bare-ws throughput is bounded by that process, not by the relay.',
  )
}

export const FANOUT_COLUMNS = [
  { metric: 'saturated delivered', unit: 'updates/s', decimals: 0 },
  { metric: 'saturated p50', unit: 'ms', decimals: 2 },
  { metric: 'saturated p99', unit: 'ms', decimals: 2 },
  { metric: 'frames per delivered update', unit: 'frames', decimals: 3, ratio: false },
  { metric: 'light p50', unit: 'ms', decimals: 3 },
  { metric: 'light p99', unit: 'ms', decimals: 3 },
]
