/**
 * Load generator for the fan-out scenario, in its own process. N clients on
 * one document, all in this process so that send and receive times come from
 * one clock. Each client appends one character per update.
 *
 * Closed loop (saturate): an update is "in flight" from the moment its writer
 * sends it until every other client has seen it; each writer keeps exactly M
 * in flight, sending a new one whenever one of its updates completes.
 * Open loop (rate): each writer sends at a fixed rate, staggered.
 *
 * Deliveries are counted per (update, receiver) from the decoded Yjs content,
 * not per frame, so servers that merge updates into one message are counted
 * fairly. Only deliveries received inside the measurement window (after the
 * warm-up) count, for throughput and for latency alike.
 */
import { serve } from '../proc/child-side.js'
import { BenchConnection, type Target } from '../wire/bench-connection.js'
import { SeenClocks, Writer } from '../wire/updates.js'
import { Samples, type LatencySummary } from '../report/stats.js'

export interface FanoutJob {
  target: Target
  doc: string
  clients: number
  inflight: number
  mode: 'saturate' | 'rate'
  ratePerClient: number
  warmupMs: number
  durationMs: number
}

export interface FanoutResult {
  seconds: number
  delivered: number
  sent: number
  framesIn: number
  latency: LatencySummary
  errors: string[]
}

const RING = 1 << 16
const MASK = RING - 1

async function run(job: FanoutJob): Promise<FanoutResult> {
  const n = job.clients
  const writers: Writer[] = []
  const index = new Map<number, number>()
  while (writers.length < n) {
    const w = new Writer()
    if (index.has(w.clientID)) continue
    index.set(w.clientID, writers.length)
    writers.push(w)
  }
  const sendTimes = writers.map(() => new Float64Array(RING))
  const seen = writers.map(() => new SeenClocks())
  const errors: string[] = []
  const latency = new Samples()
  let measuring = false
  let stopped = false
  let delivered = 0
  let sent = 0

  const conns: BenchConnection[] = []
  const send = (s: number): void => {
    const update = writers[s]!.next()
    sendTimes[s]![(writers[s]!.clock - 1) & MASK] = performance.now()
    conns[s]!.sendUpdate(update)
    if (measuring) sent++
  }
  const completed = (s: number): number => {
    const id = writers[s]!.clientID
    let min = Infinity
    for (let r = 0; r < n; r++) if (r !== s) min = Math.min(min, seen[r]!.clockOf(id))
    return min
  }
  const topUp = (s: number): void => {
    if (stopped) return
    const done = completed(s)
    while (writers[s]!.clock - done < job.inflight) send(s)
  }
  const onReceive = (r: number, update: Uint8Array): void => {
    const now = performance.now()
    seen[r]!.ingest(update, (client, from, to) => {
      const s = index.get(client)
      if (s === undefined || s === r) return
      if (measuring) {
        const times = sendTimes[s]!
        for (let k = from; k < to; k++) latency.add(now - times[k & MASK]!)
        delivered += to - from
      }
      if (job.mode === 'saturate') topUp(s)
    })
  }

  for (let r = 0; r < n; r++) {
    conns.push(
      await BenchConnection.open(job.target, {
        doc: job.doc,
        onUpdate: (u) => onReceive(r, u),
        onUnexpectedClose: (code, reason) => errors.push(`client ${r} closed: ${code} ${reason}`),
      }),
    )
  }

  const frames = (): number => conns.reduce((sum, c) => sum + c.framesIn, 0)
  const timers: ReturnType<typeof setInterval>[] = []
  if (job.mode === 'saturate') for (let s = 0; s < n; s++) topUp(s)
  else {
    const period = 1000 / job.ratePerClient
    for (let s = 0; s < n; s++) {
      const start = setTimeout(() => timers.push(setInterval(() => !stopped && send(s), period)), (s * period) / n)
      timers.push(start)
    }
  }
  await sleep(job.warmupMs)
  measuring = true
  const framesBefore = frames()
  const t0 = performance.now()
  await sleep(job.durationMs)
  measuring = false
  stopped = true
  const seconds = (performance.now() - t0) / 1000
  const framesIn = frames() - framesBefore
  for (const t of timers) clearInterval(t)
  await Promise.all(conns.map((c) => c.close()))
  return { seconds, delivered, sent, framesIn, latency: latency.summary(), errors }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

serve({ run: (job: FanoutJob) => run(job), shutdown: () => setTimeout(() => process.exit(0), 10) })
