/**
 * Reopens a server's data directory after the server was killed and counts
 * the updates that reached it: each benchmark update is one clock tick, so
 * the sum of the stored state vector is the number of stored updates. Each
 * store is read with the code its server writes with.
 */
import { createRequire } from 'node:module'
import * as Y from 'yjs'
import { ClassicLevel } from 'classic-level'
import { LevelDocStore } from '@meridian/server'
import { serve } from '../proc/child-side.js'
import { totalClock } from '../wire/updates.js'
import type { StoreKind } from '../systems.js'

export interface CountJob {
  kind: StoreKind
  dataDir: string
  docs: string[]
}

interface YLeveldb {
  getYDoc(name: string): Promise<Y.Doc>
  destroy(): Promise<unknown>
}

async function count(job: CountJob): Promise<{ stored: number; perDoc: number[] }> {
  const perDoc: number[] = []
  if (job.kind === 'meridian') {
    const store = new LevelDocStore(job.dataDir, { durability: 'buffered' })
    await store.open()
    for (const name of job.docs) {
      const stored = await store.loadDoc(name)
      const doc = new Y.Doc()
      if (stored) for (const part of stored.snapshot ? [stored.snapshot, ...stored.log] : stored.log) Y.applyUpdate(doc, part)
      perDoc.push(totalClock(Y.encodeStateVector(doc)))
    }
    await store.close()
  } else if (job.kind === 'y-leveldb') {
    const require = createRequire(import.meta.url)
    const { LeveldbPersistence } = require('y-leveldb') as { LeveldbPersistence: new (dir: string) => YLeveldb }
    const ldb = new LeveldbPersistence(job.dataDir)
    for (const name of job.docs) perDoc.push(totalClock(Y.encodeStateVector(await ldb.getYDoc(name))))
    await ldb.destroy()
  } else {
    const db = new ClassicLevel<string, Uint8Array>(job.dataDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    for (const name of job.docs) {
      const state = await db.get(name)
      const doc = new Y.Doc()
      if (state) Y.applyUpdate(doc, state)
      perDoc.push(totalClock(Y.encodeStateVector(doc)))
    }
    await db.close()
  }
  return { stored: perDoc.reduce((a, b) => a + b, 0), perDoc }
}

serve({ count: (job: CountJob) => count(job), shutdown: () => setTimeout(() => process.exit(0), 10) })
