import { describe, expect, it } from 'vitest'
import { MemoryDocStore, MemoryVolume } from '../../src/storage/memory-store.js'
import { runDocStoreConformance, type DocStoreFixture } from './conformance.js'

async function makeMemoryStore(): Promise<DocStoreFixture> {
  const volume = new MemoryVolume()
  let current = new MemoryDocStore({ volume })
  return {
    store: current,
    reopen: async () => {
      await current.close()
      current = new MemoryDocStore({ volume })
      await current.open()
      return current
    },
    failWrites: () => current.failWrites(),
    teardown: () => current.close(),
  }
}

runDocStoreConformance('MemoryDocStore', makeMemoryStore)

describe('MemoryDocStore', () => {
  it('does not share buffers with callers', async () => {
    const store = new MemoryDocStore()
    await store.open()
    const update = Uint8Array.of(1, 2)
    await store.append([{ doc: 'd', update }])
    update[0] = 9
    const loaded = await store.loadDoc('d')
    expect(loaded?.log).toEqual([Uint8Array.of(1, 2)])
    loaded?.log[0]?.fill(7)
    expect((await store.loadDoc('d'))?.log).toEqual([Uint8Array.of(1, 2)])
    await store.close()
  })

  it('keeps the feed index proportional to the number of documents', async () => {
    const store = new MemoryDocStore()
    await store.open()
    for (let i = 0; i < 500; i++) await store.append([{ doc: `d${i % 5}`, update: Uint8Array.of(1) }])
    expect(store.volume.feed.size).toBe(5)
    expect(store.volume.feedIndex.length).toBeLessThanOrEqual(2 * 5 + 16 + 1)
    expect((await store.readFeed(490, 100)).map((e) => e.seq)).toEqual([496, 497, 498, 499, 500])
    await store.close()
  })
})
