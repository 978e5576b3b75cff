/**
 * Scenario 5, cross-region: three Meridian relays joined by delayed links.
 * Clients in every region write to the same documents at a fixed rate
 * (region-worker.ts). Per directed link: bytes on the wire per update written
 * at the sending region, against the raw update bytes; delta messages and
 * frames per update; and the replication lag above the injected delay.
 */
import type { PeerHealth } from '@meridian/server'
import { REFERENCE, SYSTEMS } from '../systems.js'
import type { RegionJob, RegionResult } from '../workers/region-worker.js'
import { errorText, withWorker, type RunContext } from './context.js'
import { startMesh } from './mesh.js'

const SCENARIO = 'crossregion'
type Counters = NonNullable<PeerHealth['counters']>

export async function crossregion(ctx: RunContext): Promise<void> {
  const p = ctx.profile.crossregion
  const system = SYSTEMS.find((s) => s.id === REFERENCE)!
  const regions = ['eu', 'us', 'ap']
  const pairDelay: Record<string, number> = { 'eu-us': p.delays.eu_us, 'us-ap': p.delays.us_ap, 'ap-us': p.delays.us_ap, 'us-eu': p.delays.eu_us, 'eu-ap': p.delays.eu_ap, 'ap-eu': p.delays.eu_ap }
  const delay = (a: string, b: string): number => pairDelay[`${a}-${b}`] ?? 0
  ctx.log('cross-region: starting three relays and six delayed links')
  let mesh
  try {
    // Documents under batched/ travel on a batching cadence; the rest immediately.
    const policies = [{ match: 'batched/**', regions: '*', cadenceMs: p.batchedCadenceMs }, { match: '**', regions: '*' }]
    mesh = await startMesh(system, regions, delay, { policies })
  } catch (err) {
    ctx.report.fail(SCENARIO, 'meridian', errorText(err))
    return
  }
  const cluster = mesh
  try {
    const links = regions.flatMap((a) => regions.filter((b) => b !== a).map((b) => [a, b] as const))
    const snapshot = async (): Promise<Map<string, Counters>> =>
      new Map(await Promise.all(links.map(async ([a, b]) => [`${a}→${b}`, await cluster.counters(a, b)] as const)))
    const targets = Object.fromEntries(regions.map((r) => [r, cluster.relay(r).target]))
    const runs = [
      ...p.ratesPerWriter.map((rate) => ({ rate, batched: false })),
      { rate: Math.max(...p.ratesPerWriter), batched: true },
    ]
    for (const { rate, batched } of runs) {
      const job: RegionJob = { targets, docPrefix: batched ? `batched/xr-${rate}` : `xr-${rate}`, docs: p.docs, ratePerWriter: rate, warmupMs: p.warmupMs, durationMs: p.durationMs }
      ctx.log(`cross-region: ${p.docs} documents × ${regions.length} writers at ${rate} updates/s${batched ? `, batched every ${p.batchedCadenceMs} ms` : ''}`)
      const { result, before, after } = await withWorker('workers/region-worker.js', 'region clients', async (worker) => {
        const before = await snapshot()
        const result = await worker.request<RegionResult>('run', job, p.warmupMs + p.durationMs + 180_000)
        return { result, before, after: await snapshot() }
      })
      if (result.errors.length) throw new Error(result.errors.slice(0, 3).join('; '))
      for (const [a, b] of links) {
        const key = `${a}→${b}`
        const d = (f: keyof Counters): number => after.get(key)![f] - before.get(key)![f]
        const w = result.written[a]!
        const row = `meridian ${key} @${rate}/s${batched ? ` batched ${p.batchedCadenceMs} ms` : ''}`
        const r = ctx.report
        r.add(SCENARIO, row, 'wire bytes/update', d('wireBytesOut') / w.updates, 'bytes')
        r.add(SCENARIO, row, 'raw client update', w.bytes / w.updates, 'bytes')
        r.add(SCENARIO, row, 'raw update bytes sent/update', d('rawUpdateBytesOut') / w.updates, 'bytes')
        r.add(SCENARIO, row, 'deltas/update', d('deltasOut') / w.updates, 'msgs')
        r.add(SCENARIO, row, 'frames/update', d('framesOut') / w.updates, 'frames')
        r.add(SCENARIO, row, 'ack bytes back/update', d('wireBytesIn') / w.updates, 'bytes')
        const lag = result.lag[key]
        if (lag) {
          r.add(SCENARIO, row, 'injected delay', delay(a, b), 'ms')
          r.add(SCENARIO, row, 'lag p50 above delay', lag.p50 - delay(a, b), 'ms')
          r.add(SCENARIO, row, 'lag p99 above delay', lag.p99 - delay(a, b), 'ms')
        }
      }
    }
    ctx.report.note(
      SCENARIO,
      `Three relays (eu, us, ap), each in its own process, full mesh through LinkProxy with one-way delays eu–us ${p.delays.eu_us} ms, us–ap ${p.delays.us_ap} ms, eu–ap ${p.delays.eu_ap} ms. ` +
        `${p.docs} documents, one client per region per document writing one character ${p.ratesPerWriter.join(' or ')} times/s (row suffix); ${p.durationMs / 1000} s window after ${p.warmupMs / 1000} s warm-up. ` +
        `"batched" rows: the same load on documents whose policy has cadenceMs ${p.batchedCadenceMs} (queued deltas leave on ${p.batchedCadenceMs} ms ticks, merged per document, all due documents in one compressed frame); the lag of those rows includes up to one cadence of batching by design. Other rows: cadence 0 (sent at the end of the event-loop turn). ` +
        'Per-update figures: link counters (/healthz peers[].counters of the sending relay) over the whole run, until every update had reached every region, divided by all updates written in the sending region. ' +
        'Lag (sampled after the warm-up) includes both client hops.',
    )
  } catch (err) {
    ctx.report.fail(SCENARIO, 'meridian', errorText(err))
  } finally {
    await cluster.close()
  }
}

export const CROSSREGION_COLUMNS = [
  { metric: 'wire bytes/update', unit: 'bytes', decimals: 1, ratio: false },
  { metric: 'raw client update', unit: 'bytes', decimals: 1, ratio: false },
  { metric: 'raw update bytes sent/update', unit: 'bytes', decimals: 1, ratio: false },
  { metric: 'deltas/update', unit: 'msgs', decimals: 3, ratio: false },
  { metric: 'frames/update', unit: 'frames', decimals: 3, ratio: false },
  { metric: 'ack bytes back/update', unit: 'bytes', decimals: 1, ratio: false },
  { metric: 'injected delay', unit: 'ms', decimals: 0, ratio: false },
  { metric: 'lag p50 above delay', unit: 'ms', decimals: 2, ratio: false },
  { metric: 'lag p99 above delay', unit: 'ms', decimals: 2, ratio: false },
]
