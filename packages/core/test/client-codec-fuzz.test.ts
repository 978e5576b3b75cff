import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { DecodeError } from '../src/errors.js'
import { decodeClientMessage, encodeClientMessage, MessageType, type ClientMessage } from '../src/protocol/client-messages.js'
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from '../src/protocol/awareness-update.js'

const RUNS = 1000
/** Generous for a 2-core shared machine; a decoder that is not linear blows far past it. */
const BUDGET_MS = 50

const slowest = { client: 0, awareness: 0 }
afterAll(() => {
  // Visible in the test log, so a creeping regression shows before it fails.
  console.info(`slowest decode: client ${slowest.client.toFixed(2)} ms, awareness ${slowest.awareness.toFixed(2)} ms`)
})

/**
 * Runs one decode and returns the result or the DecodeError; anything else
 * thrown fails the property, and so does a call over the time budget.
 */
function timed<T>(kind: keyof typeof slowest, bytes: Uint8Array, decode: () => T): { ok: true; value: T } | { ok: false; error: DecodeError } {
  const start = performance.now()
  try {
    return { ok: true, value: decode() }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`decoder threw a non-DecodeError: ${String(err)}`, { cause: err })
    return { ok: false, error: err }
  } finally {
    const ms = performance.now() - start
    if (ms > slowest[kind]) slowest[kind] = ms
    // Asserted per call, so fast-check shrinks and reports the slow input.
    expect(ms, `${kind} decode of ${bytes.length} bytes took ${ms.toFixed(1)} ms`).toBeLessThan(BUDGET_MS)
  }
}

/** Whatever decodes must re-encode to something that decodes to the same value. */
function checkClient(bytes: Uint8Array): void {
  const r = timed('client', bytes, () => decodeClientMessage(bytes))
  if (r.ok) expect(decodeClientMessage(encodeClientMessage(r.value))).toEqual(r.value)
}

function checkAwareness(bytes: Uint8Array): void {
  const r = timed('awareness', bytes, () => decodeAwarenessUpdate(bytes))
  if (r.ok) expect(decodeAwarenessUpdate(encodeAwarenessUpdate(r.value))).toEqual(r.value)
}

// ------------------------------------------------------------ inputs

const text = fc.string({ unit: 'binary', maxLength: 16 })
const bytes = fc.uint8Array({ maxLength: 64 })
const stateVector = fc
  .array(fc.tuple(fc.nat(), fc.maxSafeNat()), { maxLength: 4 })
  .map((pairs) => Y.encodeStateVector(new Map(pairs)))
const validMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  stateVector.map((stateVector) => ({ type: 'sync-step1' as const, stateVector })),
  bytes.map((update) => ({ type: 'sync-step2' as const, update })),
  bytes.map((update) => ({ type: 'sync-update' as const, update })),
  bytes.map((update) => ({ type: 'awareness' as const, update })),
  text.map((reason) => ({ type: 'auth-denied' as const, reason })),
  fc.constant({ type: 'query-awareness' as const }),
  fc.record({ version: fc.integer({ min: 1, max: 1000 }), features: fc.maxSafeNat() }).map((r) => ({ type: 'meridian-hello' as const, ...r })),
  stateVector.map((stateVector) => ({ type: 'durable-ack' as const, stateVector })),
  fc.record({ region: text, relayId: text, regions: fc.array(text, { maxLength: 4 }) }).map((r) => ({ type: 'relay-info' as const, ...r })),
  fc
    .record({ code: fc.integer({ min: 1000, max: 4999 }), reason: text, regions: fc.array(text, { maxLength: 4 }) })
    .map((r) => ({ type: 'refusal' as const, ...r })),
)
const validAwareness: fc.Arbitrary<AwarenessEntry[]> = fc.array(
  fc.record({ clientId: fc.maxSafeNat(), clock: fc.maxSafeNat(), state: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) }),
  { maxLength: 4 },
)

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
)
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })

function mutate(input: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Uint8Array.from(input)
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (m.kind === 'insert' ? b.length + 1 : b.length)
    if (m.kind === 'flip' && b.length > 0) b[at] = b[at]! ^ (1 << m.bit)
    else if (m.kind === 'truncate') b = b.subarray(0, at)
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), m.byte, ...b.subarray(at)])
    else if (m.kind === 'delete' && b.length > 0) b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)])
  }
  return b
}

/** Steers random bodies behind a type the decoder knows, so fuzzing reaches past the first byte. */
const knownType = fc.constantFrom(...Object.values(MessageType))
const typedGarbage = fc
  .tuple(knownType, fc.uint8Array({ maxLength: 64 }))
  .map(([t, body]) => Uint8Array.from([t, ...body]))

// ------------------------------------------------------------ properties

describe('client codec under hostile input', () => {
  it('random bytes only ever produce DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), checkClient), { numRuns: RUNS })
  })

  it('random bodies behind known message types only ever produce DecodeError', () => {
    fc.assert(fc.property(typedGarbage, checkClient), { numRuns: RUNS })
  })

  it('bit-flipped, truncated, extended and shortened valid messages only ever produce DecodeError', () => {
    fc.assert(
      fc.property(validMessage, mutations, (msg, ms) => checkClient(mutate(encodeClientMessage(msg), ms))),
      { numRuns: RUNS },
    )
  })

  it('random awareness payloads only ever produce DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), checkAwareness), { numRuns: RUNS })
  })

  it('mutated valid awareness payloads only ever produce DecodeError', () => {
    fc.assert(
      fc.property(validAwareness, mutations, (entries, ms) => checkAwareness(mutate(encodeAwarenessUpdate(entries), ms))),
      { numRuns: RUNS },
    )
  })

  it('large adversarial inputs stay linear', () => {
    // One untimed pass first: the budget is about input shape, not about the
    // JIT compiling the decoder on a loaded shared machine.
    const checkClient = (b: Uint8Array): void => {
      void tryQuietly(() => decodeClientMessage(b))
      checkClientTimed(b)
    }
    const checkAwareness = (b: Uint8Array): void => {
      void tryQuietly(() => decodeAwarenessUpdate(b))
      checkAwarenessTimed(b)
    }
    const big = new Uint8Array(256 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    checkClient(big)
    checkAwareness(big)

    // A quarter-megabyte update, as a real step2 might be.
    const update = Uint8Array.from([MessageType.Sync, 2, ...encodeLength(big.length)])
    checkClient(Uint8Array.from([...update, ...big]))

    // A long but valid state vector: every entry is walked.
    const svEntries = new Map<number, number>()
    for (let i = 0; i < 20_000; i++) svEntries.set(i * 7919, i)
    checkClient(encodeClientMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(svEntries) }))

    // Deep JSON nesting at the state size limit must not escape as a RangeError.
    const deep = '['.repeat(30_000) + ']'.repeat(30_000)
    checkAwareness(encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: deep }]))
    checkAwareness(encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: '['.repeat(60_000) }]))

    // Many small entries. Decoding is linear (~1–3 µs per entry warm); the
    // full default limit of 10,000 can approach the budget on a loaded 2-core
    // box through scheduling noise alone, so a few thousand keeps this honest.
    const many: AwarenessEntry[] = Array.from({ length: 3_000 }, (_, i) => ({ clientId: i, clock: 1, state: '{"c":1}' }))
    checkAwareness(encodeAwarenessUpdate(many))
    expect(slowest.client).toBeGreaterThan(0)
  })

})

const checkClientTimed = checkClient
const checkAwarenessTimed = checkAwareness

function tryQuietly(run: () => unknown): unknown {
  try {
    return run()
  } catch (err) {
    return err
  }
}

function encodeLength(n: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, n)
  return encoding.toUint8Array(enc)
}
