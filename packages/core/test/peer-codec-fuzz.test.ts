import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DecodeError } from '../src/errors.js'
import {
  PEER_DIGEST_BUCKETS,
  PeerMessageType,
  decodePeerMessage,
  encodePeerMessage,
  readHelloVersion,
  type PeerDecodeLimits,
  type PeerMessage,
} from '../src/protocol/peer-messages.js'
import { decodeBatchMessages, decodeBatchPayload, encodeBatchPayload } from '../src/protocol/peer-messages-batch.js'

const RUNS = 1000
const BUDGET_MS = 50
let slowest = 0

const once = <T>(decode: () => T): { result: { ok: true; value: T } | { ok: false; error: DecodeError }; ms: number } => {
  const start = performance.now()
  try {
    const value = decode()
    return { result: { ok: true, value }, ms: performance.now() - start }
  } catch (err) {
    const ms = performance.now() - start
    if (!(err instanceof DecodeError)) throw new Error(`decoder threw a non-DecodeError: ${String(err)}`, { cause: err })
    return { result: { ok: false, error: err }, ms }
  }
}

/**
 * Runs a decoder, lets only DecodeError out as a failure value, and records
 * its time. A decode over budget is timed again and the fastest run counts:
 * on a shared machine a GC pause or a preempted core can stall one call, but
 * only a decoder doing work out of proportion to its input is slow every time.
 */
const attempt = <T>(decode: () => T): { ok: true; value: T } | { ok: false; error: DecodeError } => {
  const first = once(decode)
  let ms = first.ms
  for (let retry = 0; retry < 3 && ms >= BUDGET_MS; retry++) ms = Math.min(ms, once(decode).ms)
  slowest = Math.max(slowest, ms)
  return first.result
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

// Small limits as well as the defaults, so the over-limit paths get fuzzed too.
const limitsArb: fc.Arbitrary<PeerDecodeLimits | undefined> = fc.option(
  fc.record({
    maxPayloadBytes: fc.nat(64), maxStringBytes: fc.nat(16), maxListLength: fc.nat(8), maxBatchMessages: fc.nat(8),
  }, { requiredKeys: [] }),
  { nil: undefined },
)

const docArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })
const idArb = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })
const bytesArb = fc.uint8Array({ maxLength: 24 })
const seqArb = fc.maxSafeNat()
const timeArb = fc.double({ noNaN: true, noDefaultInfinity: true })

const validArb: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const), version: fc.integer({ min: 1, max: 1000 }), relayId: idArb, region: idArb,
    policyHash: fc.string({ maxLength: 16 }), time: timeArb,
    nonce: fc.uint8Array({ minLength: 8, maxLength: 16 }), auth: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
  fc.record({ type: fc.constant('catchup-request' as const), sinceSeq: seqArb }),
  fc.record({ type: fc.constant('catchup-done' as const), upToSeq: seqArb }),
  fc.record({ type: fc.constant('sync-step1' as const), doc: docArb, stateVector: bytesArb }),
  fc.record({ type: fc.constant('sync-step2' as const), doc: docArb, update: bytesArb, seq: seqArb }),
  fc.record({
    type: fc.constant('delta' as const), doc: docArb, update: bytesArb, originRegion: idArb, originTime: timeArb, seq: seqArb,
  }),
  fc.record({ type: fc.constant('ack' as const), seq: seqArb }),
  fc.uint8Array({ maxLength: 4 }).map((h): PeerMessage => ({ type: 'digest', buckets: new Array<Uint8Array>(PEER_DIGEST_BUCKETS).fill(h) })),
  fc.record({ type: fc.constant('digest-bucket-request' as const), bucket: fc.nat(PEER_DIGEST_BUCKETS - 1) }),
  fc.record({
    type: fc.constant('digest-bucket' as const), bucket: fc.nat(PEER_DIGEST_BUCKETS - 1),
    entries: fc.array(fc.record({ doc: docArb, hash: bytesArb }), { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant('refused' as const), doc: docArb, reason: fc.string({ maxLength: 16 }) }),
  fc.record({ type: fc.constant('batch' as const), compressed: fc.boolean(), stream: fc.option(fc.integer({ min: 0, max: 63 }), { nil: null }), payload: bytesArb }),
)

/** Whatever decodes must re-encode to bytes that decode to the same message. */
const checkStable = (msg: PeerMessage): void => {
  const again = encodePeerMessage(msg)
  expect(equalBytes(encodePeerMessage(decodePeerMessage(again)), again)).toBe(true)
}

const fuzzAll = (bytes: Uint8Array, limits: PeerDecodeLimits | undefined): void => {
  const r = attempt(() => decodePeerMessage(bytes, limits))
  if (r.ok) checkStable(r.value)
  attempt(() => readHelloVersion(bytes))
  attempt(() => decodeBatchMessages(bytes, limits))
}

describe('peer codec fuzz: only DecodeError, always fast', () => {
  beforeEach(() => {
    slowest = 0
  })
  afterEach(() => {
    expect(slowest).toBeLessThan(BUDGET_MS)
  })

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), limitsArb, fuzzAll), { numRuns: RUNS })
  })

  it('random bodies behind every valid type byte', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 256 }), limitsArb, (type, body, limits) =>
        fuzzAll(Uint8Array.from([type, ...body]), limits)),
      { numRuns: RUNS },
    )
  })

  it('bit-flipped valid messages', () => {
    fc.assert(
      fc.property(validArb, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), limitsArb, (msg, flips, limits) => {
        const bytes = encodePeerMessage(msg)
        for (const f of flips) bytes[(f >>> 3) % bytes.length]! ^= 1 << (f & 7)
        fuzzAll(bytes, limits)
      }),
      { numRuns: RUNS },
    )
  })

  it('every strict prefix of a valid message is rejected with a DecodeError', () => {
    fc.assert(
      fc.property(validArb, fc.nat(), (msg, cut) => {
        const bytes = encodePeerMessage(msg)
        // A batch's payload runs to the end of the frame, so a prefix past its
        // flags is a shorter batch; the payload's own framing (and deflate's)
        // refuses the cut when it is read (see 'batches of damaged messages').
        const end = msg.type === 'batch' ? Math.min(cut % bytes.length, 1) : cut % bytes.length
        const r = attempt(() => decodePeerMessage(bytes.subarray(0, end)))
        expect(r.ok).toBe(false)
      }),
      { numRuns: RUNS },
    )
  })

  it('batches of damaged messages', () => {
    fc.assert(
      fc.property(fc.array(validArb, { maxLength: 6 }), fc.nat(), fc.nat(), limitsArb, (msgs, flip, cut, limits) => {
        const inner = msgs
          .filter((m) => m.type !== 'hello' && m.type !== 'batch')
          .map(encodePeerMessage)
        const payload = encodeBatchPayload(inner)
        if (payload.length > 0) payload[(flip >>> 3) % payload.length]! ^= 1 << (flip & 7)
        const damaged = payload.subarray(0, payload.length - (cut % 3))
        attempt(() => decodeBatchPayload(damaged, limits))
        attempt(() => decodeBatchMessages(damaged, limits))
      }),
      { numRuns: RUNS },
    )
  })

  it('lying counts and lengths at the default limits', () => {
    // A claim of many items backed by few bytes must be refused before any work proportional to the claim.
    const claims = [2 ** 31, 100_000, 99_999, 10_000, 2 ** 53 - 1]
    const varint = (n: number): number[] => {
      const out: number[] = []
      while (n > 127) { out.push(0x80 | (n % 128)); n = Math.floor(n / 128) }
      out.push(n)
      return out
    }
    for (const n of claims) {
      const cases = [
        [PeerMessageType.DigestBucket, 0, ...varint(n), 1, 0x61, 0],
        [PeerMessageType.Digest, ...varint(n), 0],
        [PeerMessageType.SyncStep1, 1, 0x61, ...varint(n)],
      ]
      for (const c of cases) expect(attempt(() => decodePeerMessage(Uint8Array.from(c))).ok).toBe(false)
      expect(attempt(() => decodeBatchPayload(Uint8Array.from([...varint(n), 2, 6, 1]))).ok).toBe(false)
    }
  })
})
