import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  MAX_NAME_BYTES,
  decodeDocKey,
  decodeFeedKey,
  docPrefix,
  docRange,
  encodeName,
  feedKey,
  headKey,
  logKey,
  logRange,
  metaKey,
  snapshotKey,
} from '../../src/storage/keys.js'

const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)
const within = (key: Uint8Array, r: { gte: Uint8Array; lt: Uint8Array }): boolean => cmp(key, r.gte) >= 0 && cmp(key, r.lt) < 0

// Names built to stress the encoding: separators, traversal, the code points
// whose UTF-8 bytes are the extremes (NUL, U+FFFF, U+10FFFF), and full Unicode.
const tricky = fc.constantFrom('', '/', '..', '../', 'a/../b', '\u0000', '\u0000\u0000', '\u007f', '\u0080', '\uffff', '\u{10ffff}', 'é', 'e\u0301')
const nameArb = fc
  .array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((s) => Buffer.byteLength(s) <= MAX_NAME_BYTES)
// Half the pairs have one name a prefix of the other, the case a naive
// separator-based encoding gets wrong.
const distinctPair = fc
  .tuple(nameArb, nameArb, fc.boolean())
  .map(([a, s, extend]) => [a, extend ? a + s : s] as const)
  .filter(([a, b]) => a !== b)
const logId = fc.oneof(fc.constantFrom(0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.nat())

function keysOf(name: string, id: number): Uint8Array[] {
  const prefix = docPrefix(name)
  return [headKey(prefix), snapshotKey(prefix), logKey(prefix, id)]
}

describe('storage keys', () => {
  it('keeps the key ranges of distinct names disjoint', () => {
    fc.assert(
      fc.property(distinctPair, logId, logId, ([a, b], idA, idB) => {
        const ra = docRange(docPrefix(a))
        const rb = docRange(docPrefix(b))
        expect(cmp(ra.lt, rb.gte) <= 0 || cmp(rb.lt, ra.gte) <= 0).toBe(true)
        for (const key of keysOf(a, idA)) {
          expect(within(key, ra)).toBe(true)
          expect(within(key, rb)).toBe(false)
        }
        for (const key of keysOf(b, idB)) {
          expect(within(key, rb)).toBe(true)
          expect(within(key, ra)).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('decodes every document key back to its name and part', () => {
    fc.assert(
      fc.property(nameArb, logId, (name, id) => {
        const prefix = docPrefix(name)
        expect(decodeDocKey(headKey(prefix))).toEqual({ doc: name, part: { kind: 'head' } })
        expect(decodeDocKey(snapshotKey(prefix))).toEqual({ doc: name, part: { kind: 'snapshot' } })
        expect(decodeDocKey(logKey(prefix, id))).toEqual({ doc: name, part: { kind: 'log', logId: id } })
      }),
      { numRuns: 300 },
    )
  })

  it('orders log keys and feed keys numerically', () => {
    fc.assert(
      fc.property(nameArb, logId, logId, (name, x, y) => {
        fc.pre(x !== y)
        const prefix = docPrefix(name)
        expect(Math.sign(cmp(logKey(prefix, x), logKey(prefix, y)))).toBe(Math.sign(x - y))
        expect(Math.sign(cmp(feedKey(x), feedKey(y)))).toBe(Math.sign(x - y))
        expect(decodeFeedKey(feedKey(x))).toBe(x)
        const r = logRange(prefix, Math.min(x, y), Math.max(x, y))
        expect(cmp(logKey(prefix, x), r.gte) >= 0 && cmp(logKey(prefix, x), r.lte) <= 0).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps metadata keys apart from document keys of the same name', () => {
    fc.assert(
      fc.property(nameArb, logId, (name, id) => {
        const meta = metaKey(name)
        for (const key of keysOf(name, id)) expect(cmp(meta, key)).not.toBe(0)
        expect(within(meta, docRange(docPrefix(name)))).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it('accepts names up to the byte limit and refuses longer or ill-formed ones', () => {
    expect(encodeName('x'.repeat(MAX_NAME_BYTES)).length).toBe(MAX_NAME_BYTES)
    expect(encodeName('é'.repeat(MAX_NAME_BYTES / 2)).length).toBe(MAX_NAME_BYTES)
    expect(() => encodeName('x'.repeat(MAX_NAME_BYTES + 1))).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
    expect(() => encodeName('é'.repeat(MAX_NAME_BYTES / 2) + 'x')).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
    // Both lone surrogates would become U+FFFD and collide.
    expect(() => encodeName('a\ud800')).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
    expect(() => encodeName('\udc00')).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
    expect(() => logKey(docPrefix('a'), -1)).toThrow(expect.objectContaining({ code: 'storage-invalid' }))
  })

  it('reports malformed keys as corrupt', () => {
    const head = headKey(docPrefix('doc'))
    expect(() => decodeDocKey(head.subarray(0, head.length - 1))).toThrow(expect.objectContaining({ code: 'storage-corrupt' }))
    expect(() => decodeDocKey(Uint8Array.of(0x02, 0x80))).toThrow(expect.objectContaining({ code: 'storage-corrupt' }))
    expect(() => decodeDocKey(Uint8Array.of(0x02, 0x01, 0xff, 0x00))).toThrow(expect.objectContaining({ code: 'storage-corrupt' }))
    expect(() => decodeFeedKey(Uint8Array.of(0x03, 1))).toThrow(expect.objectContaining({ code: 'storage-corrupt' }))
  })
})
