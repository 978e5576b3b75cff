/**
 * Load generator for the persistence scenario: one writer and one observer
 * per document. Each writer keeps M updates in flight, "in flight" ending
 * when the observer has received the update — the same closed loop for every
 * server, so each gets the load it can apply. Meridian writers also ask for
 * durable acks, and the acked count at the deadline is reported.
 * The run stops sending at the deadline and answers at once, so the parent
 * can SIGKILL the server and count what actually reached the disk.
 */
import { serve } from '../proc/child-side.js'
import { BenchConnection, type Target } from '../wire/bench-connection.js'
import { SeenClocks, Writer, clockIn } from '../wire/updates.js'

export interface PersistJob {
  target: Target
  docs: string[]
  inflight: number
  durationMs: number
  durableAcks: boolean
}

export interface PersistResult {
  seconds: number
  sent: number
  /** Updates covered by durable acks at the deadline (Meridian only; 0 otherwise). */
  acked: number
  errors: string[]
}

async function run(job: PersistJob): Promise<PersistResult> {
  const errors: string[] = []
  let started = false
  let stopped = false
  const writers = job.docs.map(() => new Writer())
  const acked = job.docs.map(() => 0)
  const observed = job.docs.map(() => new SeenClocks())
  const confirmed = (d: number): number => observed[d]!.clockOf(writers[d]!.clientID)
  const writerConns: BenchConnection[] = []
  const others: BenchConnection[] = []
  const topUp = (d: number): void => {
    if (!started || stopped) return
    const w = writers[d]!
    while (w.clock - confirmed(d) < job.inflight) writerConns[d]!.sendUpdate(w.next())
  }
  const onClose = (code: number, reason: string): void => {
    if (!stopped) errors.push(`closed: ${code} ${reason}`)
  }
  for (let d = 0; d < job.docs.length; d++) {
    const doc = job.docs[d]!
    writerConns.push(
      await BenchConnection.open(job.target, {
        doc,
        durableAcks: job.durableAcks,
        onDurableAck: (sv) => {
          if (!stopped) acked[d] = Math.max(acked[d]!, clockIn(sv, writers[d]!.clientID))
        },
        onUnexpectedClose: onClose,
      }),
    )
    others.push(
      await BenchConnection.open(job.target, {
        doc,
        onUpdate: (u) => observed[d]!.ingest(u, () => topUp(d)),
        onUnexpectedClose: onClose,
      }),
    )
  }
  const t0 = performance.now()
  started = true
  for (let d = 0; d < job.docs.length; d++) topUp(d)
  await new Promise((resolve) => setTimeout(resolve, job.durationMs))
  stopped = true
  const seconds = (performance.now() - t0) / 1000
  const sent = writers.reduce((sum, w) => sum + w.clock, 0)
  const ackedTotal = acked.reduce((sum, a) => sum + a, 0)
  // The server is killed next; the sockets die with it.
  return { seconds, sent, acked: ackedTotal, errors }
}

serve({ run: (job: PersistJob) => run(job), shutdown: () => setTimeout(() => process.exit(0), 10) })
