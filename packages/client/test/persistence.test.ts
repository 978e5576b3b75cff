import { afterEach, describe, expect, it } from 'vitest'
import { IDBFactory } from 'fake-indexeddb'
import { mkdtemp, rm, appendFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { IndexedDbPersistence } from '../src/persistence/indexeddb.js'
import { LocalCache } from '../src/persistence/local-cache.js'
import type { LocalPersistence } from '../src/persistence/types.js'
import { FilePersistence } from '../src/node/file-persistence.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

const stores: Record<string, () => Promise<() => LocalPersistence>> = {
  indexeddb: async () => {
    const indexedDB = new IDBFactory()
    return () => new IndexedDbPersistence('notes/1', { indexedDB })
  },
  file: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-client-'))
    dirs.push(dir)
    return () => new FilePersistence(join(dir, 'sub', 'doc.bin'))
  },
}

const cache = (doc: Y.Doc, store: LocalPersistence, compactAfter = 1_000) => {
  const errors: Error[] = []
  const loaded: boolean[] = []
  const c = new LocalCache(doc, store, compactAfter, { loaded: (_sv, del) => loaded.push(del), error: (e) => errors.push(e) })
  return { c, errors, loaded }
}

for (const [kind, make] of Object.entries(stores)) {
  describe(`LocalCache on ${kind}`, () => {
    it('stores every update and loads them into a fresh document', async () => {
      const open = await make()
      const doc = new Y.Doc()
      const first = cache(doc, open())
      await first.c.whenLoaded
      doc.getText('t').insert(0, 'hello world')
      doc.getText('t').delete(0, 6)
      doc.getMap('m').set('k', [1, 2])
      await first.c.whenStored()
      await first.c.destroy()

      const again = new Y.Doc()
      const second = cache(again, open())
      await second.c.whenLoaded
      expect(again.getText('t').toString()).toBe('world')
      expect(again.getMap('m').toJSON()).toEqual({ k: [1, 2] })
      expect(second.loaded).toEqual([true]) // it holds a deletion
      expect([...first.errors, ...second.errors]).toEqual([])
      await second.c.destroy()
    })

    it('compacts into one entry without losing anything', async () => {
      const open = await make()
      const doc = new Y.Doc()
      const store = open()
      const { c, errors } = cache(doc, store, 5)
      await c.whenLoaded
      for (let i = 0; i < 12; i++) doc.getArray('a').push([i])
      await c.whenStored()
      expect((await store.load()).length).toBeLessThan(12)
      await c.destroy()
      const again = new Y.Doc()
      const second = cache(again, open())
      await second.c.whenLoaded
      expect(again.getArray('a').toJSON()).toEqual([...Array(12).keys()])
      expect(errors).toEqual([])
      await second.c.destroy()
    })
  })
}

describe('IndexedDbPersistence', () => {
  it('compaction keeps what another tab appended to the same database', async () => {
    const indexedDB = new IDBFactory()
    const mine = new IndexedDbPersistence('notes/tabs', { indexedDB })
    const theirs = new IndexedDbPersistence('notes/tabs', { indexedDB })
    const myDoc = new Y.Doc()
    const theirDoc = new Y.Doc()
    myDoc.getText('t').insert(0, 'mine ')
    theirDoc.getMap('m').set('tab', 'theirs')
    await mine.append(Y.encodeStateAsUpdate(myDoc))
    await theirs.append(Y.encodeStateAsUpdate(theirDoc))
    // This tab never saw the other's update; its state alone would drop it.
    await mine.compact(Y.encodeStateAsUpdate(myDoc))

    const fresh = new IndexedDbPersistence('notes/tabs', { indexedDB })
    const stored = await fresh.load()
    expect(stored).toHaveLength(1)
    const reloaded = new Y.Doc()
    for (const u of stored) Y.applyUpdate(reloaded, u)
    expect(reloaded.getText('t').toString()).toBe('mine ')
    expect(reloaded.getMap('m').get('tab')).toBe('theirs')
    await Promise.all([mine.close(), theirs.close(), fresh.close()])
  })

  it('a compaction that cannot merge leaves every entry in place', async () => {
    const indexedDB = new IDBFactory()
    const store = new IndexedDbPersistence('notes/bad', { indexedDB })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'kept')
    await store.append(Y.encodeStateAsUpdate(doc))
    await store.append(new Uint8Array([255, 255, 255]))
    await expect(store.compact(Y.encodeStateAsUpdate(doc))).rejects.toBeDefined()
    expect(await store.load()).toHaveLength(2)
    await store.close()
  })
})

describe('FilePersistence', () => {
  it('ignores a frame cut short by a crash mid-append', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-client-'))
    dirs.push(dir)
    const path = join(dir, 'doc.bin')
    const store = new FilePersistence(path)
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'whole')
    await store.append(Y.encodeStateAsUpdate(doc))
    const whole = (await readFile(path)).byteLength
    await appendFile(path, new Uint8Array([200, 0, 0, 0, 1, 2, 3]))
    const updates = await store.load()
    expect(updates).toHaveLength(1)
    expect(whole).toBeGreaterThan(4)
    const again = new Y.Doc()
    Y.applyUpdate(again, updates[0]!)
    expect(again.getText('t').toString()).toBe('whole')
  })

  it('keeps appends made after a torn tail: the next load has every whole frame', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-client-'))
    dirs.push(dir)
    const path = join(dir, 'doc.bin')
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    const text = doc.getText('t')
    text.insert(0, 'before ')
    const first = new FilePersistence(path)
    for (const u of updates.splice(0)) await first.append(u)
    // The process dies mid-append: a length prefix promising 200 bytes, and 3 of them.
    await appendFile(path, new Uint8Array([200, 0, 0, 0, 1, 2, 3]))

    // Restart: load what is there, then keep editing and appending.
    const second = new FilePersistence(path)
    const loaded = new Y.Doc()
    for (const u of await second.load()) Y.applyUpdate(loaded, u)
    expect(loaded.getText('t').toString()).toBe('before ')
    text.insert(text.length, 'after')
    text.delete(0, 1)
    for (const u of updates.splice(0)) await second.append(u)

    const third = new FilePersistence(path)
    const again = new Y.Doc()
    for (const u of await third.load()) Y.applyUpdate(again, u)
    expect(again.getText('t').toString()).toBe('efore after')
    expect(again.getText('t').toString()).toBe(text.toString())
  })

  it('loads nothing from a missing file and refuses writes after close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-client-'))
    dirs.push(dir)
    const store = new FilePersistence(join(dir, 'none.bin'))
    expect(await store.load()).toEqual([])
    await store.close()
    await expect(store.append(new Uint8Array([0, 0]))).rejects.toMatchObject({ code: 'persistence-failed' })
  })
})
