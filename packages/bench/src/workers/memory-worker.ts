/**
 * Client side of the memory scenario: opens one connection per document,
 * writes a small Y.Text update into each and waits until the server has
 * applied it (its answer to a sync step 1 contains the update), then keeps
 * the connections open until told to close them.
 */
import * as Y from 'yjs'
import { serve } from '../proc/child-side.js'
import { BenchConnection, type Target } from '../wire/bench-connection.js'
import { SeenClocks, Writer } from '../wire/updates.js'

export interface MemoryJob {
  target: Target
  prefix: string
  docs: number
  concurrency: number
}

let open: BenchConnection[] = []

async function openOne(target: Target, doc: string): Promise<BenchConnection> {
  const writer = new Writer()
  const seen = new SeenClocks()
  let applied: (() => void) | null = null
  const conn = await BenchConnection.open(target, {
    doc,
    onUpdate: (u) =>
      seen.ingest(u, () => {
        if (seen.clockOf(writer.clientID) >= writer.clock && writer.clock > 0) applied?.()
      }),
  })
  // Twelve characters, sent as one update: a document with a little content.
  for (let i = 0; i < 12; i++) writer.next()
  const all = Y.encodeStateAsUpdate(writer.doc)
  if (!target.syncs) {
    conn.sendUpdate(all)
    return conn
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${doc}: update not applied within 30 s`)), 30_000)
    applied = () => {
      clearTimeout(timer)
      resolve()
    }
    conn.sendUpdate(all)
    conn.sendStep1(Uint8Array.of(0))
  })
  writer.doc.destroy()
  return conn
}

async function openAll(job: MemoryJob): Promise<{ opened: number; ms: number }> {
  const t0 = performance.now()
  let next = 0
  const conns: BenchConnection[] = new Array(job.docs)
  const worker = async (): Promise<void> => {
    while (next < job.docs) {
      const i = next++
      conns[i] = await openOne(job.target, `${job.prefix}-${i}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.docs) }, worker))
  open.push(...conns)
  return { opened: conns.length, ms: performance.now() - t0 }
}

async function closeAll(): Promise<{ closed: number }> {
  const conns = open
  open = []
  for (let i = 0; i < conns.length; i += 500) await Promise.all(conns.slice(i, i + 500).map((c) => c.close()))
  return { closed: conns.length }
}

serve({
  open: (job: MemoryJob) => openAll(job),
  close: () => closeAll(),
  shutdown: () => setTimeout(() => process.exit(0), 10),
})
