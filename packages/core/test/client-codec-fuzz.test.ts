import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { DecodeError } from '../src/errors.js'
import { decodeClientMessage, encodeClientMessage, MessageType, type ClientMessage } from '../src/protocol/client-messages.js'
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from '../src/protocol/awareness-update.js'

const RUNS = 1000
/** Per decode of a fuzzed message (at most a few hundred bytes). */
const BUDGET_MS = 50
/**
 * Per decode of a quarter-megabyte adversarial input. Linear decoding takes
 * a few ms idle and some tens on a loaded shared 2-core box; anything
 * quadratic on these sizes takes seconds, so this still catches it.
 */
const LARGE_BUDGET_MS = 250
let budgetMs = BUDGET_MS

const slowest = { client: 0, awareness: 0 }
afterAll(() => {
  // Visible in the test log, so a creeping regression shows before it fails.
  console.info(`slowest fuzzed decode: client ${slowest.client.toFixed(2)} ms, awareness ${slowest.awareness.toFixed(2)} ms`)
})

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DecodeError }

function runOnce<T>(decode: () => T): { outcome: Outcome<T>; ms: number } {
  const start = performance.now()
  let outcome: Outcome<T>
  try {
    outcome = { ok: true, value: decode() }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`decoder threw a non-DecodeError: ${String(err)}`, { cause: err })
    outcome = { ok: false, error: err }
  }
  return { outcome, ms: performance.now() - start }
}

/**
 * Runs one decode and returns the result or the DecodeError; anything else
 * thrown fails the property, and so does a call over the time budget.
 */
function timed<T>(kind: keyof typeof slowest, bytes: Uint8Array, decode: () => T): Outcome<T> {
  const first = runOnce(decode)
  let ms = first.ms
  // A spike from the scheduler, GC or JIT on a shared machine goes away on a
  // retry; a decoder that is slow on this input stays slow, so min-of-3 still fails.
  for (let retry = 0; retry < 2 && ms >= budgetMs; retry++) ms = Math.min(ms, runOnce(decode).ms)
  if (ms > slowest[kind]) slowest[kind] = ms
  // Asserted per call, so fast-check shrinks and reports the slow input.
  expect(ms, `${kind} decode of ${bytes.length} bytes took ${ms.toFixed(1)} ms`).toBeLessThan(budgetMs)
  return first.outcome
}

/** Whatever decodes must re-encode to something that decodes to the same value. */
function checkClient(bytes: Uint8Array): Outcome<ClientMessage> {
  const r = timed('client', bytes, () => decodeClientMessage(bytes))
  if (r.ok) expect(decodeClientMessage(encodeClientMessage(r.value))).toEqual(r.value)
  return r
}

function checkAwareness(bytes: Uint8Array): Outcome<AwarenessEntry[]> {
  const r = timed('awareness', bytes, () => decodeAwarenessUpdate(bytes))
  if (r.ok) expect(decodeAwarenessUpdate(encodeAwarenessUpdate(r.value))).toEqual(r.value)
  return r
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
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => void checkClient(b)), { numRuns: RUNS })
  })

  it('random bodies behind known message types only ever produce DecodeError', () => {
    fc.assert(fc.property(typedGarbage, (b) => void checkClient(b)), { numRuns: RUNS })
  })

  it('bit-flipped, truncated, extended and shortened valid messages only ever produce DecodeError', () => {
    fc.assert(
      fc.property(validMessage, mutations, (msg, ms) => void checkClient(mutate(encodeClientMessage(msg), ms))),
      { numRuns: RUNS },
    )
  })

  it('random awareness payloads only ever produce DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => void checkAwareness(b)), { numRuns: RUNS })
  })

  it('mutated valid awareness payloads only ever produce DecodeError', () => {
    fc.assert(
      fc.property(validAwareness, mutations, (entries, ms) => void checkAwareness(mutate(encodeAwarenessUpdate(entries), ms))),
      { numRuns: RUNS },
    )
  })

  it('large adversarial inputs stay linear', () => {
    budgetMs = LARGE_BUDGET_MS
    // The slowest-call figures printed at the end are for the fuzzed inputs.
    const before = { ...slowest }
    Object.assign(slowest, { client: 0, awareness: 0 })
    const big = new Uint8Array(256 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    checkClient(big)
    checkAwareness(big)

    // A quarter-megabyte update, as a real step2 might be.
    const update = Uint8Array.from([MessageType.Sync, 2, ...encodeLength(big.length)])
    expect(checkClient(Uint8Array.from([...update, ...big])).ok).toBe(true)

    // A long but valid state vector: every entry is walked.
    const svEntries = new Map<number, number>()
    for (let i = 0; i < 20_000; i++) svEntries.set(i * 7919, i)
    expect(checkClient(encodeClientMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(svEntries) })).ok).toBe(true)

    // Deep JSON nesting at the state size limit must not escape as a RangeError.
    const deep = '['.repeat(30_000) + ']'.repeat(30_000)
    expect(checkAwareness(encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: deep }])).ok).toBe(true)
    const unclosed = checkAwareness(encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: '['.repeat(60_000) }]))
    expect(unclosed.ok ? 'decoded' : unclosed.error.code).toBe('bad-value')

    // Many small entries, up to the default entry limit.
    const many: AwarenessEntry[] = Array.from({ length: 10_000 }, (_, i) => ({ clientId: i, clock: 1, state: '{"c":1}' }))
    const decodedMany = checkAwareness(encodeAwarenessUpdate(many))
    expect(decodedMany.ok ? decodedMany.value.length : decodedMany.error.code).toBe(10_000)
    expect(slowest.client).toBeGreaterThan(0)
    console.info(`slowest large decode: client ${slowest.client.toFixed(2)} ms, awareness ${slowest.awareness.toFixed(2)} ms`)
    Object.assign(slowest, before)
    budgetMs = BUDGET_MS
  })
})

function encodeLength(n: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, n)
  return encoding.toUint8Array(enc)
}
