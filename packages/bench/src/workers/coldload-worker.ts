/**
 * Client side of the cold-load scenario, in its own process:
 *  - generate: a synthetic editing session on one Y.Text (seeded, so every
 *    system loads the same bytes): a cursor that mostly types forward,
 *    sometimes jumps to a random place, and deletes one character in five;
 *  - upload: sends the whole document as one update and waits until the
 *    server has applied it;
 *  - load: connects to a freshly started server and times connect → the
 *    received sync data covers the whole document.
 */
import fs from 'node:fs'
import * as Y from 'yjs'
import { serve } from '../proc/child-side.js'
import { BenchConnection, type Target } from '../wire/bench-connection.js'
import { SeenClocks } from '../wire/updates.js'

export interface GenerateJob {
  edits: number
  seed: number
  file: string
}
export interface GenerateResult {
  bytes: number
  stateVector: Uint8Array
  textLength: number
  ms: number
}

function generate(job: GenerateJob): GenerateResult {
  const t0 = performance.now()
  let s = job.seed >>> 0
  // LCG: deterministic and fast; statistical quality is irrelevant here.
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
  const doc = new Y.Doc()
  const text = doc.getText('t')
  let cursor = 0
  for (let i = 0; i < job.edits; i++) {
    const len = text.length
    if (rnd() < 0.1) cursor = Math.floor(rnd() * (len + 1))
    if (cursor > len) cursor = len
    if (rnd() < 0.2 && cursor > 0) {
      text.delete(cursor - 1, 1)
      cursor--
    } else {
      text.insert(cursor, String.fromCharCode(97 + Math.floor(rnd() * 26)))
      cursor++
    }
  }
  const update = Y.encodeStateAsUpdate(doc)
  fs.writeFileSync(job.file, update)
  return { bytes: update.byteLength, stateVector: Y.encodeStateVector(doc), textLength: text.length, ms: performance.now() - t0 }
}

const covers = (seen: SeenClocks, sv: Uint8Array): boolean => {
  for (const [client, clock] of Y.decodeStateVector(sv)) if (seen.clockOf(client) < clock) return false
  return true
}

/** Connects and resolves with the ms until everything in `sv` has arrived. */
async function syncTime(target: Target, doc: string, sv: Uint8Array, send?: Uint8Array): Promise<number> {
  const seen = new SeenClocks()
  let done: (() => void) | null = null
  const complete = new Promise<void>((resolve) => (done = resolve))
  const t0 = performance.now()
  const conn = await BenchConnection.open(target, {
    doc,
    onUpdate: (u) => {
      seen.ingest(u, () => {})
      if (covers(seen, sv)) done?.()
    },
  })
  if (send) {
    conn.sendUpdate(send)
    conn.sendStep1(Uint8Array.of(0))
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('document not complete within 120 s')), 120_000)
  })
  try {
    await Promise.race([complete, timeout])
  } finally {
    clearTimeout(timer)
  }
  const ms = performance.now() - t0
  await conn.close()
  return ms
}

serve({
  generate: (job: GenerateJob) => generate(job),
  upload: (job: { target: Target; doc: string; file: string; stateVector: Uint8Array }) =>
    syncTime(job.target, job.doc, job.stateVector, new Uint8Array(fs.readFileSync(job.file))),
  load: (job: { target: Target; doc: string; stateVector: Uint8Array }) => syncTime(job.target, job.doc, job.stateVector),
  shutdown: () => setTimeout(() => process.exit(0), 10),
})
