/**
 * Yjs merge determinism, the ground Meridian's "converge without
 * coordination" stands on: whatever order, grouping, duplication or merging
 * the network and the relays impose on a set of updates, every replica ends
 * with the same content and state vector.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { applyAll, docFingerprint, historyArb, newDoc, type Fingerprint, type History } from './support/histories.js'

const NUM_RUNS = 1000

const indices = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** A full permutation of `items`; shrinks towards the original order. */
const permutationOf = <T>(items: readonly T[]): fc.Arbitrary<T[]> => fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length })

const withOrder = historyArb().chain((history) => permutationOf(indices(history.updates.length)).map((order) => ({ history, order })))

const pick = (history: History, order: readonly number[]): Uint8Array[] => order.map((i) => history.updates[i] as Uint8Array)

const reference = (history: History): Fingerprint => docFingerprint(applyAll(history.updates))

const expectConverged = (doc: Y.Doc, expected: Fingerprint): void => {
  expect(doc.store.pendingStructs).toBeNull()
  expect(doc.store.pendingDs).toBeNull()
  expect(docFingerprint(doc)).toEqual(expected)
}

describe('merge determinism', () => {
  it('emission order leaves nothing pending and matches every client after a full sync', () => {
    fc.assert(
      fc.property(historyArb(), (history) => {
        const doc = applyAll(history.updates)
        expect(doc.store.pendingStructs).toBeNull()
        expect(doc.store.pendingDs).toBeNull()
        // Each client's own updates, client by client, are the same set.
        expectConverged(applyAll(history.perClient.flat()), docFingerprint(doc))
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('any permutation of the updates yields the same content and state vector', () => {
    fc.assert(
      fc.property(withOrder, ({ history, order }) => {
        expectConverged(applyAll(pick(history, order)), reference(history))
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('duplicated updates change nothing', () => {
    const arb = historyArb().chain((history) => {
      const n = history.updates.length
      const extra = n === 0 ? fc.constant<number[]>([]) : fc.array(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: n })
      return extra.chain((dups) => permutationOf([...indices(n), ...dups]).map((order) => ({ history, order })))
    })
    fc.assert(
      fc.property(arb, ({ history, order }) => {
        expectConverged(applyAll(pick(history, order)), reference(history))
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('random chunks merged with Y.mergeUpdates yield the same, chunk by chunk or merged again', () => {
    const arb = withOrder.chain(({ history, order }) =>
      fc.array(fc.boolean(), { minLength: order.length, maxLength: order.length }).map((cuts) => ({ history, order, cuts })),
    )
    fc.assert(
      fc.property(arb, ({ history, order, cuts }) => {
        const chunks: Uint8Array[][] = [[]]
        order.forEach((i, k) => {
          chunks[chunks.length - 1]?.push(history.updates[i] as Uint8Array)
          if (cuts[k] === true) chunks.push([])
        })
        const merged = chunks.filter((c) => c.length > 0).map((c) => Y.mergeUpdates(c))
        const expected = reference(history)
        expectConverged(applyAll(merged), expected)
        expectConverged(applyAll([Y.mergeUpdates(merged)]), expected)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it("applying an equal replica's full state changes nothing and emits no update", () => {
    fc.assert(
      fc.property(withOrder, ({ history, order }) => {
        const a = applyAll(history.updates)
        const b = applyAll(pick(history, order))
        const before = docFingerprint(b)
        expect(before).toEqual(docFingerprint(a))
        for (const [from, to] of [
          [a, b],
          [b, a],
        ] as const) {
          const emitted: Uint8Array[] = []
          to.on('update', (update: Uint8Array) => emitted.push(update))
          Y.applyUpdate(to, Y.encodeStateAsUpdate(from))
          expect(emitted).toEqual([])
          expectConverged(to, before)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('diffUpdate against an intermediate state vector, plus the rest, converges', () => {
    const arb = historyArb().chain((history) => {
      const all = indices(history.updates.length)
      return fc
        .tuple(fc.shuffledSubarray(all), permutationOf(all))
        .map(([seen, restOrder]) => ({ history, seen, restOrder }))
    })
    fc.assert(
      fc.property(arb, ({ history, seen, restOrder }) => {
        const expected = reference(history)
        const intermediate = (): Y.Doc => applyAll(pick(history, seen))
        const sv = Y.encodeStateVector(intermediate())

        // One merged catch-up, as a relay answers a sync step 1.
        const full = Y.mergeUpdates(history.updates)
        expectConverged(applyAll([Y.diffUpdate(full, sv)], intermediate()), expected)

        // Update by update, each trimmed to what the state vector lacks.
        const seenSet = new Set(seen)
        const rest = restOrder.filter((i) => !seenSet.has(i))
        expectConverged(applyAll(pick(history, rest).map((u) => Y.diffUpdate(u, sv)), intermediate()), expected)
      }),
      { numRuns: NUM_RUNS },
    )
  })
})

describe('history generator', () => {
  // Guards against a generator that degenerates into sequential, single-client edits.
  it('produces concurrency and cross-client causality', () => {
    const samples = fc.sample(historyArb(), { numRuns: 300, seed: 42 })
    const multiClient = samples.filter((h) => h.perClient.filter((u) => u.length > 0).length >= 2)
    // With the client's own earlier updates in place, anything still pending
    // waits for another client's update.
    const dependsOnOther = samples.filter((h) =>
      h.perClient.some((updates) => {
        const doc = newDoc()
        return updates.some((update) => {
          Y.applyUpdate(doc, update)
          return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
        })
      }),
    )
    const divergedBeforeSync = samples.filter((h) => {
      const states = h.perClient.map((u) => JSON.stringify(docFingerprint(applyAll(u)).json))
      return new Set(states).size > 1
    })
    expect(multiClient.length).toBeGreaterThan(samples.length / 2)
    expect(dependsOnOther.length).toBeGreaterThan(samples.length / 4)
    expect(divergedBeforeSync.length).toBeGreaterThan(samples.length / 2)
  })
})
