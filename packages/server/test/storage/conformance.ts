/**
 * The behaviour every DocStore must have. Each implementation's test file
 * calls runDocStoreConformance with a factory; nothing here knows which
 * backend it is testing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { DocStore, StoredDoc } from '../../src/storage/doc-store.js'
import { MAX_NAME_BYTES } from '../../src/storage/keys.js'

export interface DocStoreFixture {
  /** A store not yet opened. */
  store: DocStore
  /** Closes `store` and opens a new store on the same data, as a relay restart would. */
  reopen: () => Promise<DocStore>
  /** Makes every later write of the current store fail, as a broken disk would. */
  failWrites: () => void
  /** Closes whatever is open and removes all data. */
  teardown: () => Promise<void>
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const rejectsWith = (p: Promise<unknown>, code: string) => expect(p).rejects.toMatchObject({ code })

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const name of iterable) out.push(name)
  return out
}

async function fullFeed(store: DocStore, afterSeq = 0) {
  return store.readFeed(afterSeq, Number.MAX_SAFE_INTEGER)
}

const EDGE_NAMES = [
  '',
  '/',
  '..',
  '../etc/passwd',
  'a',
  'a/',
  'ab',
  'a\u0000',
  '\u0000',
  '\uffff',
  '\u{10ffff}',
  'Dokument/Überblick',
  '文档',
  '😀 emoji',
  'x'.repeat(MAX_NAME_BYTES),
]

export function runDocStoreConformance(name: string, makeStore: () => Promise<DocStoreFixture>): void {
  describe(`${name} conformance`, () => {
    let fx: DocStoreFixture
    let store: DocStore

    beforeEach(async () => {
      fx = await makeStore()
      store = fx.store
      await store.open()
    })
    afterEach(async () => {
      await fx.teardown()
    })

    it('loads appended updates in append order', async () => {
      expect(await store.loadDoc('d')).toBeNull()
      const s1 = await store.append([{ doc: 'd', update: bytes(1) }])
      const s2 = await store.append([{ doc: 'd', update: bytes(2, 2) }, { doc: 'd', update: bytes(3) }])
      const doc = (await store.loadDoc('d')) as StoredDoc
      expect(doc.snapshot).toBeNull()
      expect(doc.log).toEqual([bytes(1), bytes(2, 2), bytes(3)])
      expect(doc.logBytes).toBe(4)
      expect(doc.lastLogId).toBeGreaterThan(0)
      expect(doc.seq).toBe(s2.get('d'))
      expect(s2.get('d')).toBeGreaterThan(s1.get('d') ?? Infinity)
      expect(store.lastSeq()).toBe(s2.get('d'))
      expect(store.healthy).toBe(true)
    })

    it('gives each document of one batch its own seq, and a document one seq however many entries', async () => {
      const seqs = await store.append([
        { doc: 'a', update: bytes(1) },
        { doc: 'b', update: bytes(2) },
        { doc: 'a', update: bytes(3) },
      ])
      expect([...seqs.keys()]).toEqual(['a', 'b'])
      expect(new Set(seqs.values()).size).toBe(2)
      expect(store.lastSeq()).toBe(Math.max(...seqs.values()))
      expect((await store.loadDoc('a'))?.log).toEqual([bytes(1), bytes(3)])
      expect((await store.loadDoc('b'))?.log).toEqual([bytes(2)])
      expect(await store.append([])).toEqual(new Map())
    })

    it('serializes concurrent appends', async () => {
      const calls = Array.from({ length: 40 }, (_, i) => store.append([{ doc: `d${i % 3}`, update: bytes(i + 1) }]))
      const results = await Promise.all(calls)
      const seqs = results.map((m, i) => m.get(`d${i % 3}`) ?? 0)
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
      expect(new Set(seqs).size).toBe(seqs.length)
      for (let d = 0; d < 3; d++) {
        const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === d).map((i) => bytes(i + 1))
        expect((await store.loadDoc(`d${d}`))?.log).toEqual(expected)
      }
    })

    it('loads a snapshot followed by the log entries appended after it', async () => {
      await store.append([{ doc: 'd', update: bytes(1) }, { doc: 'd', update: bytes(2) }])
      const loaded = (await store.loadDoc('d')) as StoredDoc
      await store.append([{ doc: 'd', update: bytes(3) }])
      await store.compact('d', bytes(9, 9), loaded.lastLogId)
      const after = (await store.loadDoc('d')) as StoredDoc
      expect(after.snapshot).toEqual(bytes(9, 9))
      expect(after.log).toEqual([bytes(3)])
      expect(after.logBytes).toBe(1)
      // Compaction changes no content, so the document keeps its place in the feed.
      expect(after.seq).toBe(loaded.seq + 1)
      expect(await fullFeed(store)).toEqual([{ seq: after.seq, doc: 'd' }])
    })

    it('ignores compactions that know less than what is stored', async () => {
      await store.append([{ doc: 'd', update: bytes(1) }])
      const first = (await store.loadDoc('d')) as StoredDoc
      await store.append([{ doc: 'd', update: bytes(2) }])
      const second = (await store.loadDoc('d')) as StoredDoc
      await store.compact('d', bytes(0xb), second.lastLogId)
      await store.compact('d', bytes(0xa), first.lastLogId)
      expect((await store.loadDoc('d'))?.snapshot).toEqual(bytes(0xb))

      // Deleted and recreated since `second` was loaded: its snapshot is of another life.
      await store.deleteDoc('d')
      await store.append([{ doc: 'd', update: bytes(7) }])
      await store.compact('d', bytes(0xc), second.lastLogId)
      const now = (await store.loadDoc('d')) as StoredDoc
      expect(now.snapshot).toBeNull()
      expect(now.log).toEqual([bytes(7)])

      await store.compact('missing', bytes(1), 1)
      expect(await store.hasDoc('missing')).toBe(false)
      await rejectsWith(store.compact('d', bytes(1), now.lastLogId + 1), 'storage-invalid')
      expect(store.healthy).toBe(true)
    })

    it('deletes snapshot, log and feed entry', async () => {
      await store.append([{ doc: 'a', update: bytes(1) }, { doc: 'ab', update: bytes(2) }])
      await store.compact('a', bytes(5), ((await store.loadDoc('a')) as StoredDoc).lastLogId)
      await store.append([{ doc: 'a', update: bytes(3) }])
      await store.deleteDoc('a')
      await store.deleteDoc('never-existed')
      expect(await store.loadDoc('a')).toBeNull()
      expect(await store.hasDoc('a')).toBe(false)
      expect(await store.hasDoc('ab')).toBe(true)
      expect((await fullFeed(store)).map((e) => e.doc)).toEqual(['ab'])
      expect(await collect(store.listDocs())).toEqual(['ab'])
      await store.append([{ doc: 'a', update: bytes(4) }])
      expect(await store.loadDoc('a')).toMatchObject({ snapshot: null, log: [bytes(4)] })
    })

    it('lists every document once', async () => {
      await store.append([{ doc: 'x', update: bytes(1) }, { doc: 'y', update: bytes(1) }])
      await store.append([{ doc: 'x', update: bytes(2) }, { doc: 'z', update: bytes(1) }])
      expect((await collect(store.listDocs())).sort()).toEqual(['x', 'y', 'z'])
      expect(await store.hasDoc('y')).toBe(true)
    })

    it('keeps a feed with each document once, at its latest seq (model-based)', async () => {
      const op = fc.oneof(
        { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), docs: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), doc: fc.integer({ min: 0, max: 5 }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), doc: fc.integer({ min: 0, max: 5 }) }) },
      )
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.nat(), fc.integer({ min: 1, max: 4 }), async (ops, pick, limit) => {
          const run = await makeStore()
          try {
            const s = run.store
            await s.open()
            const model = new Map<string, { seq: number; content: number[] }>()
            let counter = 0
            for (const o of ops) {
              if (o.kind === 'append') {
                const entries = o.docs.map((d) => ({ doc: `doc${d}`, update: bytes(++counter % 256 || 1) }))
                const seqs = await s.append(entries)
                for (const e of entries) {
                  const m = model.get(e.doc) ?? { seq: 0, content: [] }
                  m.content.push(e.update[0] ?? 0)
                  m.seq = seqs.get(e.doc) ?? -1
                  model.set(e.doc, m)
                }
              } else if (o.kind === 'delete') {
                await s.deleteDoc(`doc${o.doc}`)
                model.delete(`doc${o.doc}`)
              } else {
                const loaded = await s.loadDoc(`doc${o.doc}`)
                if (loaded) await s.compact(`doc${o.doc}`, Uint8Array.from([...(loaded.snapshot ?? []), ...loaded.log.map((u) => u[0] ?? 0)]), loaded.lastLogId)
              }
            }
            const expected = [...model].map(([doc, m]) => ({ seq: m.seq, doc })).sort((x, y) => x.seq - y.seq)
            expect(await fullFeed(s)).toEqual(expected)
            const cut = expected.length === 0 ? 0 : (expected[pick % expected.length]?.seq ?? 0)
            expect(await fullFeed(s, cut)).toEqual(expected.filter((e) => e.seq > cut))
            const paged: { seq: number; doc: string }[] = []
            for (let after = 0; ; ) {
              const page = await s.readFeed(after, limit)
              expect(page.length).toBeLessThanOrEqual(limit)
              if (page.length === 0) break
              paged.push(...page)
              after = page.at(-1)?.seq ?? after
            }
            expect(paged).toEqual(expected)
            expect((await collect(s.listDocs())).sort()).toEqual([...model.keys()].sort())
            for (const [doc, m] of model) {
              const loaded = (await s.loadDoc(doc)) as StoredDoc
              expect([...(loaded.snapshot ?? []), ...loaded.log.map((u) => u[0])]).toEqual(m.content)
              expect(loaded.seq).toBe(m.seq)
            }
            const everAssigned = Math.max(0, ...[...model.values()].map((m) => m.seq))
            expect(s.lastSeq()).toBeGreaterThanOrEqual(everAssigned)
          } finally {
            await run.teardown()
          }
        }),
        { numRuns: 25 },
      )
    })

    it('restores data and lastSeq on reopen, and never reuses a seq', async () => {
      await store.append([{ doc: 'keep', update: bytes(1) }])
      await store.append([{ doc: 'gone', update: bytes(2) }])
      const highest = store.lastSeq()
      await store.deleteDoc('gone')
      await store.putMeta('cursor/eu', bytes(4, 2))
      store = await fx.reopen()
      expect(store.lastSeq()).toBe(highest)
      expect((await store.loadDoc('keep'))?.log).toEqual([bytes(1)])
      expect(await store.getMeta('cursor/eu')).toEqual(bytes(4, 2))
      const seqs = await store.append([{ doc: 'new', update: bytes(3) }])
      expect(seqs.get('new')).toBeGreaterThan(highest)
    })

    it('stores metadata apart from documents', async () => {
      expect(await store.getMeta('relay-id')).toBeNull()
      await store.putMeta('relay-id', text('r1'))
      await store.putMeta('relay-id', text('r2'))
      await store.putMeta('doc', bytes())
      expect(await store.getMeta('relay-id')).toEqual(text('r2'))
      expect(await store.getMeta('doc')).toEqual(bytes())
      expect(await store.hasDoc('doc')).toBe(false)
      expect(await collect(store.listDocs())).toEqual([])
    })

    it('keeps edge-case names apart and intact', async () => {
      const seqs = await store.append(EDGE_NAMES.map((doc, i) => ({ doc, update: bytes(i + 1) })))
      expect(seqs.size).toBe(EDGE_NAMES.length)
      for (const [i, doc] of EDGE_NAMES.entries()) expect((await store.loadDoc(doc))?.log).toEqual([bytes(i + 1)])
      expect((await collect(store.listDocs())).sort()).toEqual([...EDGE_NAMES].sort())
      await store.deleteDoc('a')
      expect(await store.hasDoc('ab')).toBe(true)
      expect(await store.hasDoc('a\u0000')).toBe(true)
      expect(await store.hasDoc('a/')).toBe(true)
      await store.putMeta('😀 emoji', bytes(1))
      expect((await store.loadDoc('😀 emoji'))?.log).toEqual([bytes(EDGE_NAMES.indexOf('😀 emoji') + 1)])
    })

    it('refuses bad arguments without becoming unhealthy', async () => {
      await rejectsWith(store.append([{ doc: 'x'.repeat(MAX_NAME_BYTES + 1), update: bytes(1) }]), 'storage-invalid')
      await rejectsWith(store.append([{ doc: 'lone\ud800', update: bytes(1) }]), 'storage-invalid')
      await rejectsWith(store.append([{ doc: 'ok', update: bytes(1) }, { doc: 'empty', update: bytes() }]), 'storage-invalid')
      await rejectsWith(store.loadDoc('\udfff'), 'storage-invalid')
      await rejectsWith(store.readFeed(-1, 10), 'storage-invalid')
      await rejectsWith(store.readFeed(0, 1.5), 'storage-invalid')
      await rejectsWith(store.compact('ok', bytes(1), -1), 'storage-invalid')
      await rejectsWith(store.putMeta('y'.repeat(MAX_NAME_BYTES + 1), bytes(1)), 'storage-invalid')
      // The batch with one bad entry wrote nothing.
      expect(await store.hasDoc('ok')).toBe(false)
      expect(store.lastSeq()).toBe(0)
      expect(store.healthy).toBe(true)
      expect(await store.readFeed(0, 0)).toEqual([])
    })

    it('rejects every operation with storage-closed when not open; close is idempotent', async () => {
      await store.append([{ doc: 'd', update: bytes(1) }])
      const seq = store.lastSeq()
      await store.close()
      await store.close()
      expect(store.healthy).toBe(false)
      expect(store.lastSeq()).toBe(seq)
      await rejectsWith(store.append([{ doc: 'd', update: bytes(1) }]), 'storage-closed')
      await rejectsWith(store.loadDoc('d'), 'storage-closed')
      await rejectsWith(store.compact('d', bytes(1), 1), 'storage-closed')
      await rejectsWith(store.deleteDoc('d'), 'storage-closed')
      await rejectsWith(store.hasDoc('d'), 'storage-closed')
      await rejectsWith(collect(store.listDocs()), 'storage-closed')
      await rejectsWith(store.readFeed(0, 10), 'storage-closed')
      await rejectsWith(store.getMeta('k'), 'storage-closed')
      await rejectsWith(store.putMeta('k', bytes(1)), 'storage-closed')
    })

    it('lets a write started before close finish', async () => {
      const pending = store.append([{ doc: 'd', update: bytes(1) }])
      const closing = store.close()
      await expect(pending).resolves.toBeInstanceOf(Map)
      await closing
      store = await fx.reopen()
      expect((await store.loadDoc('d'))?.log).toEqual([bytes(1)])
    })

    it('stops writing after a write failure (fail-stop) but keeps serving reads', async () => {
      await store.append([{ doc: 'd', update: bytes(1) }])
      const seq = store.lastSeq()
      fx.failWrites()
      await rejectsWith(store.append([{ doc: 'd', update: bytes(2) }]), 'storage-failed')
      expect(store.healthy).toBe(false)
      await rejectsWith(store.putMeta('k', bytes(1)), 'storage-failed')
      await rejectsWith(store.deleteDoc('d'), 'storage-failed')
      expect(store.lastSeq()).toBe(seq)
      expect((await store.loadDoc('d'))?.log).toEqual([bytes(1)])
      expect(await fullFeed(store)).toEqual([{ seq, doc: 'd' }])
    })
  })
}
