import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { UpdateCoalescer } from '../src/updates/coalescer.js'
import { validateUpdate } from '../src/updates/validate.js'

const RUNS = 1000

const opArb = fc.record({
  doc: fc.nat(2),
  kind: fc.nat(7),
  pos: fc.nat(100),
  len: fc.nat(4),
  s: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
})
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never

/** Three replicas editing Text/Array/Map, syncing now and then; returns every update emitted, in order. */
const history = (ops: Op[]): Uint8Array[] => {
  const docs = [0, 1, 2].map(() => new Y.Doc())
  const updates: Uint8Array[] = []
  for (const d of docs) d.on('update', (u: Uint8Array) => updates.push(u))
  for (const { doc, kind, pos, len, s } of ops) {
    const d = docs[doc]!
    const text = d.getText('text')
    const arr = d.getArray<unknown>('array')
    const map = d.getMap<unknown>('map')
    switch (kind) {
      case 0: text.insert(pos % (text.length + 1), s); break
      case 1: if (text.length > 0) { const p = pos % text.length; text.delete(p, Math.min(len + 1, text.length - p)) } break
      case 2: arr.insert(pos % (arr.length + 1), [s, pos]); break
      case 3: if (arr.length > 0) { const p = pos % arr.length; arr.delete(p, Math.min(len + 1, arr.length - p)) } break
      case 4: map.set(`k${pos % 3}`, len % 2 === 0 ? s : { n: pos }); break
      case 5: map.delete(`k${pos % 3}`); break
      default: {
        const to = docs[(doc + 1 + (pos % 2)) % 3]!
        Y.applyUpdate(to, Y.encodeStateAsUpdate(d, Y.encodeStateVector(to)))
      }
    }
  }
  return updates
}

const stateOf = (updates: Uint8Array[]): { json: unknown; sv: Map<number, number> } => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return {
    json: { text: doc.getText('text').toDelta(), array: doc.getArray('array').toJSON(), map: doc.getMap('map').toJSON() },
    sv: Y.decodeStateVector(Y.encodeStateVector(doc)),
  }
}

/** Single-character typing on one text; every tenth keystroke a backspace when `withDeletes`. */
const typing = (n: number, withDeletes: boolean): { doc: Y.Doc; updates: Uint8Array[] } => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const t = doc.getText('t')
  for (let i = 0; i < n; i++) {
    if (withDeletes && i % 10 === 9) t.delete(t.length - 1, 1)
    else t.insert(t.length, String.fromCharCode(97 + (i % 26)))
  }
  return { doc, updates }
}

describe('UpdateCoalescer', () => {
  it('starts empty and empties on take and clear', () => {
    const c = new UpdateCoalescer()
    expect(c.isEmpty()).toBe(true)
    expect(c.take()).toBeNull()
    const { updates } = typing(3, false)
    for (const u of updates) c.push(u)
    expect(c.pendingUpdates).toBe(3)
    expect(c.pendingBytes).toBe(updates.reduce((n, u) => n + u.length, 0))
    const out = c.take()
    expect(out).not.toBeNull()
    expect(validateUpdate(out!).structs).toBe(3)
    expect(c.isEmpty()).toBe(true)
    expect(c.pendingBytes).toBe(0)
    c.push(updates[0]!)
    expect(c.take()).toBe(updates[0])
    c.push(updates[1]!)
    c.clear()
    expect(c.take()).toBeNull()
    expect(() => new UpdateCoalescer({ fanIn: 1 })).toThrow(RangeError)
  })

  it('take() is equivalent to applying the raw updates in order, under any tiering, compaction or take points', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.constantFrom(0, 100, 1_000_000),
        fc.array(fc.nat(40), { maxLength: 3 }),
        fc.array(fc.nat(40), { maxLength: 3 }),
        (ops, fanIn, compactFloorBytes, takeAt, duplicateAt) => {
          const updates = history(ops)
          const c = new UpdateCoalescer({ fanIn, compactFloorBytes })
          const taken: Uint8Array[] = []
          updates.forEach((u, i) => {
            c.push(u)
            // Duplicates must not change the result (a peer may resend).
            if (duplicateAt.includes(i)) c.push(u)
            if (takeAt.includes(i)) taken.push(c.take()!)
          })
          const last = c.take()
          if (last !== null) taken.push(last)
          for (const u of taken) validateUpdate(u, { maxBytes: Number.POSITIVE_INFINITY })
          const expected = stateOf(updates)
          const got = stateOf(taken)
          expect(got.json).toEqual(expected.json)
          expect(got.sv).toEqual(expected.sv)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('holds memory bounded by the document, not the update count (20,000 keystrokes)', () => {
    for (const withDeletes of [false, true]) {
      const { doc, updates } = typing(20_000, withDeletes)
      const c = new UpdateCoalescer()
      let maxPending = 0
      let rawBytes = 0
      for (const u of updates) {
        c.push(u)
        rawBytes += u.length
        maxPending = Math.max(maxPending, c.pendingBytes)
      }
      const full = Y.encodeStateAsUpdate(doc).length
      console.log(
        `20,000 keystrokes${withDeletes ? ' (10% backspace)' : ''}: raw ${rawBytes} B, max pending ${maxPending} B, ` +
          `full doc ${full} B (${(maxPending / full).toFixed(2)}x), taken v1 ${c.take()!.length} B`,
      )
      expect(maxPending).toBeLessThan(2 * full)
      expect(maxPending * 10).toBeLessThan(rawBytes)
    }
  })

  it('keeps duplicates from accumulating: the same big update pushed 500 times', () => {
    const { doc } = typing(2_000, false)
    const snapshot = Y.encodeStateAsUpdate(doc)
    const c = new UpdateCoalescer({ compactFloorBytes: 0 })
    let maxPending = 0
    for (let i = 0; i < 500; i++) {
      c.push(snapshot)
      maxPending = Math.max(maxPending, c.pendingBytes)
    }
    // The guard compacts once holdings pass twice the compacted size.
    expect(maxPending).toBeLessThanOrEqual(3 * snapshot.length)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, c.take()!)
    expect(replica.getText('t').toString()).toBe(doc.getText('t').toString())
  })

  it('16,000 keystrokes: push + take is faster than one Y.mergeUpdates over all of them', () => {
    const { doc, updates } = typing(16_000, false)
    const c = new UpdateCoalescer()
    const t0 = performance.now()
    for (const u of updates) c.push(u)
    const coalesced = c.take()!
    const coalescerMs = performance.now() - t0
    const t1 = performance.now()
    const oneMerge = Y.mergeUpdates(updates)
    const mergeMs = performance.now() - t1
    console.log(`16,000 updates: coalescer ${coalescerMs.toFixed(0)} ms, one Y.mergeUpdates ${mergeMs.toFixed(0)} ms`)
    expect(coalescerMs).toBeLessThan(mergeMs)
    for (const u of [coalesced, oneMerge]) {
      const replica = new Y.Doc()
      Y.applyUpdate(replica, u)
      expect(replica.getText('t').toString()).toBe(doc.getText('t').toString())
    }
  })
})
