import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { DecodeError } from '../src/errors.js'
import {
  compareStateVectors,
  decodeStateVectorSafe,
  dominates,
  encodeStateVectorMap,
  updateAddsToStateVector,
  type StateVector,
  type SvOrder,
} from '../src/updates/state-vector.js'

const RUNS = 1000

const anySvArb = fc
  .uniqueArray(fc.tuple(fc.nat(2 ** 32 - 1), fc.maxSafeNat()), { selector: ([c]) => c, maxLength: 20 })
  .map((entries) => new Map(entries))

/** Few clients and small clocks, so every relation (equal, before, after, concurrent) is common. */
const smallSvArb = fc
  .uniqueArray(fc.tuple(fc.nat(3), fc.nat(3)), { selector: ([c]) => c, maxLength: 4 })
  .map((entries): StateVector => new Map(entries))

const mirror: Record<SvOrder, SvOrder> = { equal: 'equal', before: 'after', after: 'before', concurrent: 'concurrent' }

const codeOf = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (err instanceof DecodeError) return err.code
    throw err
  }
}

describe('state vector encoding', () => {
  it('encodes byte-identically to Y.encodeStateVector and decodes back', () => {
    fc.assert(
      fc.property(anySvArb, (sv) => {
        const bytes = encodeStateVectorMap(sv)
        expect(bytes).toEqual(Y.encodeStateVector(sv))
        expect(decodeStateVectorSafe(bytes)).toEqual(sv)
        expect(Y.decodeStateVector(bytes)).toEqual(sv)
      }),
      { numRuns: RUNS },
    )
  })

  it('decodes the state vectors of real docs', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.getText('t').insert(0, 'hello')
    b.getArray('x').insert(0, [1, 2, 3])
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    const bytes = Y.encodeStateVector(a)
    expect(decodeStateVectorSafe(bytes)).toEqual(Y.decodeStateVector(bytes))
    expect(decodeStateVectorSafe(bytes).get(a.clientID)).toBe(5)
    expect(decodeStateVectorSafe(Y.encodeStateVector(new Y.Doc()))).toEqual(new Map())
  })

  it('rejects malformed state vectors with codes', () => {
    const enc = (...nums: number[]): Uint8Array => {
      const e = encoding.createEncoder()
      for (const n of nums) encoding.writeVarUint(e, n)
      return encoding.toUint8Array(e)
    }
    expect(codeOf(() => decodeStateVectorSafe(new Uint8Array(0)))).toBe('truncated')
    expect(codeOf(() => decodeStateVectorSafe(enc(2, 1, 5, 2)))).toBe('bad-length')
    expect(codeOf(() => decodeStateVectorSafe(enc(Number.MAX_SAFE_INTEGER)))).toBe('bad-length')
    expect(codeOf(() => decodeStateVectorSafe(enc(2, 1, 5, 1, 6)))).toBe('bad-value')
    expect(codeOf(() => decodeStateVectorSafe(enc(1, 1, 5, 0)))).toBe('trailing-bytes')
    expect(codeOf(() => decodeStateVectorSafe(enc(3, 1, 1, 2, 2, 3, 3), 2))).toBe('bad-length')
    expect(decodeStateVectorSafe(enc(2, 1, 5, 2, 0))).toEqual(new Map([[1, 5], [2, 0]]))
    expect(() => encodeStateVectorMap(new Map([[1, -1]]))).toThrow(RangeError)
  })

  it('random bytes only ever yield a map or DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const code = codeOf(() => decodeStateVectorSafe(bytes))
        if (code === 'ok') expect(encodeStateVectorMap(decodeStateVectorSafe(bytes)).length).toBeLessThanOrEqual(bytes.length)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('state vector order', () => {
  it('treats a missing client as clock 0', () => {
    expect(compareStateVectors(new Map([[1, 0]]), new Map())).toBe('equal')
    expect(compareStateVectors(new Map(), new Map([[1, 2]]))).toBe('before')
    expect(compareStateVectors(new Map([[1, 2]]), new Map([[2, 1]]))).toBe('concurrent')
    expect(dominates(new Map(), new Map([[7, 0]]))).toBe(true)
  })

  it('is antisymmetric and agrees with dominates', () => {
    fc.assert(
      fc.property(smallSvArb, smallSvArb, (a, b) => {
        const ab = compareStateVectors(a, b)
        expect(compareStateVectors(b, a)).toBe(mirror[ab])
        const ge = dominates(a, b)
        const le = dominates(b, a)
        expect(ab).toBe(ge && le ? 'equal' : ge ? 'after' : le ? 'before' : 'concurrent')
      }),
      { numRuns: RUNS },
    )
  })

  it('dominates is reflexive and transitive', () => {
    // The third vector is derived from the second so the premise holds often.
    const lower = (sv: StateVector, cut: number[]): StateVector =>
      new Map([...sv].map(([c, k], i) => [c, Math.max(0, k - (cut[i] ?? 0))]))
    fc.assert(
      fc.property(smallSvArb, smallSvArb, fc.array(fc.nat(3), { maxLength: 4 }), (a, b, cut) => {
        expect(dominates(a, a)).toBe(true)
        for (const c of [lower(b, cut), lower(a, cut)]) {
          if (dominates(a, b) && dominates(b, c)) expect(dominates(a, c)).toBe(true)
        }
        expect(dominates(a, lower(a, cut))).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('state vectors of real docs', () => {
  const opArb = fc.record({ doc: fc.nat(2), other: fc.nat(2), kind: fc.nat(3), pos: fc.nat(50) })

  it('compare and updateAddsToStateVector match what yjs docs hold', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => {
        const docs = [0, 1, 2].map(() => new Y.Doc())
        for (const { doc, other, kind, pos } of ops) {
          const d = docs[doc]!
          const t = d.getText('t')
          if (kind === 0) t.insert(pos % (t.length + 1), 'ab')
          else if (kind === 1 && t.length > 0) t.delete(pos % t.length, 1)
          else if (kind === 2) d.getMap('m').set(`k${pos % 3}`, pos)
          else Y.applyUpdate(docs[other]!, Y.encodeStateAsUpdate(d, Y.encodeStateVector(docs[other]!)))
        }
        for (const x of docs) {
          for (const y of docs) {
            const svx = decodeStateVectorSafe(Y.encodeStateVector(x))
            const svy = decodeStateVectorSafe(Y.encodeStateVector(y))
            expect(svx).toEqual(new Map([...x.store.clients.keys()].map((c) => [c, Y.getState(x.store, c)])))
            // x dominates y exactly when y holds no struct x lacks.
            expect(updateAddsToStateVector(Y.encodeStateAsUpdate(y), svx)).toBe(!dominates(svx, svy))
            expect(updateAddsToStateVector(Y.encodeStateAsUpdate(y, Y.encodeStateVector(x)), svx)).toBe(!dominates(svx, svy))
          }
        }
        // After a full exchange every pair is equal.
        const all = Y.mergeUpdates(docs.map((d) => Y.encodeStateAsUpdate(d)))
        for (const d of docs) Y.applyUpdate(d, all)
        const svs = docs.map((d) => decodeStateVectorSafe(Y.encodeStateVector(d)))
        for (const sv of svs) expect(compareStateVectors(sv, svs[0]!)).toBe('equal')
      }),
      { numRuns: RUNS },
    )
  })

  it('ignores deletions: a deletes-only update adds nothing to a state vector', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const sv = decodeStateVectorSafe(Y.encodeStateVector(doc))
    const replica = new Y.Doc()
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc))
    let deletion: Uint8Array | null = null
    doc.on('update', (u: Uint8Array) => (deletion = u))
    doc.getText('t').delete(0, 2)
    expect(deletion).not.toBeNull()
    expect(updateAddsToStateVector(deletion!, sv)).toBe(false)
    expect(decodeStateVectorSafe(Y.encodeStateVector(doc))).toEqual(sv)
    // ... even though applying it changes the content of a replica at `sv`.
    expect(compareStateVectors(decodeStateVectorSafe(Y.encodeStateVector(replica)), sv)).toBe('equal')
    Y.applyUpdate(replica, deletion!)
    expect(replica.getText('t').toString()).toBe('llo')
  })

  it('does not count a trailing Skip (a gap with no content) as progress', () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    const t = doc.getText('t')
    t.insert(0, 'a')
    t.insert(1, 'b')
    t.insert(2, 'c')
    // Merging the first and last leaves a Skip for the middle one.
    const gapped = Y.mergeUpdates([updates[0]!, updates[2]!])
    const c = doc.clientID
    expect(updateAddsToStateVector(gapped, new Map([[c, 1]]))).toBe(true)
    expect(updateAddsToStateVector(gapped, new Map([[c, 3]]))).toBe(false)
    // Hand-built: one char at clock 0, then a Skip to clock 100.
    const e = encoding.createEncoder()
    for (const n of [1, 2, c, 0]) encoding.writeVarUint(e, n)
    encoding.writeUint8(e, 4)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, 't')
    encoding.writeVarString(e, 'x')
    encoding.writeUint8(e, 10)
    encoding.writeVarUint(e, 99)
    encoding.writeVarUint(e, 0)
    const trailingSkip = encoding.toUint8Array(e)
    expect(Y.parseUpdateMeta(trailingSkip).to.get(c)).toBe(100)
    expect(updateAddsToStateVector(trailingSkip, new Map([[c, 1]]))).toBe(false)
    expect(updateAddsToStateVector(trailingSkip, new Map())).toBe(true)
  })

  it('throws DecodeError on malformed updates', () => {
    expect(codeOf(() => updateAddsToStateVector(new Uint8Array([5]), new Map()))).toBe('bad-length')
    expect(codeOf(() => updateAddsToStateVector(new Uint8Array(0), new Map()))).toBe('truncated')
  })
})
