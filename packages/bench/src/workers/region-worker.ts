/**
 * Clients of the cross-region scenario, all in this process (one clock):
 * for every document, one client in each region writes at a fixed rate and
 * reads what the others write. Replication lag is receive time minus send
 * time, per (writer region → reader region), sampled after a warm-up.
 * After the last write the run waits until every update has reached every
 * other region's client, so the parent can read the relays' link counters
 * before and after the whole run and divide by every update written.
 */
import { serve } from '../proc/child-side.js'
import { BenchConnection, type Target } from '../wire/bench-connection.js'
import { SeenClocks, Writer } from '../wire/updates.js'
import { Samples, type LatencySummary } from '../report/stats.js'

export interface RegionJob {
  targets: Record<string, Target>
  docPrefix: string
  docs: number
  ratePerWriter: number
  warmupMs: number
  durationMs: number
}

export interface RegionResult {
  /** Updates written in each region during the whole run, and their raw bytes. */
  written: Record<string, { updates: number; bytes: number }>
  /** Lag per "from→to". */
  lag: Record<string, LatencySummary>
  errors: string[]
}

const RING = 1 << 16
const MASK = RING - 1

interface Client {
  region: string
  writer: Writer
  conn: BenchConnection
  seen: SeenClocks
  sendTimes: Float64Array
}

async function run(job: RegionJob): Promise<RegionResult> {
  const regions = Object.keys(job.targets)
  const errors: string[] = []
  const byId = new Map<number, Client>()
  const clients: Client[] = []
  const lag = new Map<string, Samples>()
  const written: Record<string, { updates: number; bytes: number }> = {}
  for (const r of regions) written[r] = { updates: 0, bytes: 0 }
  let measuring = false
  let stopped = false

  for (let d = 0; d < job.docs; d++) {
    for (const region of regions) {
      const writer = new Writer()
      const seen = new SeenClocks()
      const client: Client = { region, writer, seen, sendTimes: new Float64Array(RING), conn: null as unknown as BenchConnection }
      client.conn = await BenchConnection.open(job.targets[region]!, {
        doc: `${job.docPrefix}-${d}`,
        onUpdate: (u) => {
          const now = performance.now()
          seen.ingest(u, (id, from, to) => {
            const src = byId.get(id)
            if (!measuring || !src || src === client) return
            const key = `${src.region}→${region}`
            let samples = lag.get(key)
            if (!samples) lag.set(key, (samples = new Samples()))
            for (let k = from; k < to; k++) samples.add(now - src.sendTimes[k & MASK]!)
          })
        },
        onUnexpectedClose: (code, reason) => !stopped && errors.push(`${region} client closed: ${code} ${reason}`),
      })
      byId.set(writer.clientID, client)
      clients.push(client)
    }
  }
  const period = 1000 / job.ratePerWriter
  const timers: ReturnType<typeof setTimeout>[] = []
  clients.forEach((c, i) => {
    const tick = (): void => {
      if (stopped) return
      const update = c.writer.next()
      c.sendTimes[(c.writer.clock - 1) & MASK] = performance.now()
      c.conn.sendUpdate(update)
      written[c.region]!.updates++
      written[c.region]!.bytes += update.byteLength
    }
    timers.push(setTimeout(() => timers.push(setInterval(tick, period)), (i * period) / clients.length))
  })
  await sleep(job.warmupMs)
  measuring = true
  await sleep(job.durationMs)
  measuring = false
  stopped = true
  for (const t of timers) clearInterval(t)
  await drained(clients, job.docs, regions.length, errors)
  await Promise.all(clients.map((c) => c.conn.close()))
  const out: Record<string, LatencySummary> = {}
  for (const [key, samples] of lag) out[key] = samples.summary()
  return { written, lag: out, errors }
}

/** Waits until every client has seen every other client's last update (clients of one document are adjacent). */
async function drained(clients: Client[], docs: number, perDoc: number, errors: string[]): Promise<void> {
  const deadline = performance.now() + 60_000
  const behind = (): boolean => {
    for (let d = 0; d < docs; d++) {
      const group = clients.slice(d * perDoc, (d + 1) * perDoc)
      for (const reader of group) for (const w of group) if (w !== reader && reader.seen.clockOf(w.writer.clientID) < w.writer.clock) return true
    }
    return false
  }
  while (behind()) {
    if (performance.now() > deadline) {
      errors.push('updates still missing 60 s after the last write')
      return
    }
    await sleep(20)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

serve({ run: (job: RegionJob) => run(job), shutdown: () => setTimeout(() => process.exit(0), 10) })
