import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { LevelDocStore, type BatchOp, type LevelDocStoreOptions } from '../../src/storage/level-store.js'
import { SYSTEM_VERSION_KEY } from '../../src/storage/keys.js'
import { runDocStoreConformance, type DocStoreFixture } from './conformance.js'

/** A LevelDocStore whose writes can be made to fail the way a full or broken disk fails them. */
class FaultyLevelStore extends LevelDocStore {
  broken = false
  protected override async commit(db: ClassicLevel<Uint8Array, Uint8Array>, ops: BatchOp[]): Promise<void> {
    if (this.broken) throw Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' })
    await super.commit(db, ops)
  }
}

function levelFixture(options: LevelDocStoreOptions) {
  return async (): Promise<DocStoreFixture> => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-level-'))
    let current = new FaultyLevelStore(dir, options)
    return {
      store: current,
      reopen: async () => {
        await current.close()
        current = new FaultyLevelStore(dir, options)
        await current.open()
        return current
      },
      failWrites: () => {
        current.broken = true
      },
      teardown: async () => {
        await current.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  }
}

runDocStoreConformance('LevelDocStore (fsync)', levelFixture({ durability: 'fsync' }))

describe('LevelDocStore', () => {
  let dir: string
  const stores: LevelDocStore[] = []
  const track = (store: LevelDocStore): LevelDocStore => (stores.push(store), store)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-level-'))
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps data across close and reopen of the same instance, in buffered mode too', async () => {
    const store = track(new LevelDocStore(dir, { durability: 'buffered' }))
    await store.open()
    await store.append([{ doc: 'd', update: Uint8Array.of(1) }])
    await store.close()
    await store.open()
    expect(store.healthy).toBe(true)
    expect((await store.loadDoc('d'))?.log).toEqual([Uint8Array.of(1)])
    expect(store.lastSeq()).toBe(1)
  })

  it('refuses a second store on a directory already open', async () => {
    await track(new LevelDocStore(dir)).open()
    const second = track(new LevelDocStore(dir))
    await expect(second.open()).rejects.toMatchObject({ code: 'storage-failed' })
    expect(second.healthy).toBe(false)
  })

  it('refuses a directory written by an unknown format version', async () => {
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await raw.put(SYSTEM_VERSION_KEY, Uint8Array.of(99))
    await raw.close()
    await expect(track(new LevelDocStore(dir)).open()).rejects.toMatchObject({ code: 'storage-incompatible' })
  })

  it('reads a consistent document while a compaction races the load', async () => {
    const store = track(new LevelDocStore(dir, { durability: 'buffered' }))
    await store.open()
    const updates = Array.from({ length: 50 }, (_, i) => ({ doc: 'd', update: Uint8Array.of(i + 1) }))
    await store.append(updates)
    const before = await store.loadDoc('d')
    const merged = Uint8Array.from(updates.map((u) => u.update[0] ?? 0))
    const [during] = await Promise.all([store.loadDoc('d'), store.compact('d', merged, before?.lastLogId ?? 0)])
    // Either the whole log or the snapshot alone, never a snapshot-less trimmed log.
    const seen = [...(during?.snapshot ?? []), ...(during?.log ?? []).map((u) => u[0])]
    expect(seen).toEqual([...merged])
  })
})
