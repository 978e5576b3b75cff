import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { DecodeError, MeridianError } from '../src/errors.js'
import {
  PEER_DIGEST_BUCKETS,
  PEER_PROTOCOL_VERSION,
  PeerMessageType,
  decodeHello,
  decodePeerMessage,
  digestBucketOf,
  encodeAck,
  encodeBatch,
  encodeCatchupRequest,
  encodeDelta,
  encodeDigest,
  encodeDigestBucketRequest,
  encodeHello,
  encodePeerMessage,
  encodeRefused,
  encodeSyncStep2,
  helloSigningBytes,
  readHelloVersion,
  type HelloMessage,
  type PeerDecodeLimits,
  type PeerMessage,
} from '../src/protocol/peer-messages.js'
import { decodeBatchMessages, decodeBatchPayload, encodeBatchPayload } from '../src/protocol/peer-messages-batch.js'

const RUNS = 1000
const utf8Len = (s: string): number => new TextEncoder().encode(s).length
const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
// vitest's toEqual costs ~0.4 ms per message with byte fields; thousands of
// property runs compare with this first and fall back to toEqual only to
// report a difference.
const same = (a: unknown, b: unknown): boolean => {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && equalBytes(a, b)
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]))
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length &&
      ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return Object.is(a, b)
}
const expectSame = (actual: unknown, expected: unknown): void => {
  if (!same(actual, expected)) expect(actual).toEqual(expected)
  expect(same(actual, expected)).toBe(true)
}
const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16))

// 'binary' covers every code point (NUL, astral, non-ASCII) but never a lone surrogate.
const docArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 })
const idArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }).filter((s) => utf8Len(s) <= 64)
const bytesArb = (min = 0, max = 48): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max })
const seqArb = fc.oneof(fc.nat(1000), fc.maxSafeNat())
const timeArb = fc.double({ noNaN: true, noDefaultInfinity: true })

const helloArb: fc.Arbitrary<HelloMessage> = fc.record({
  type: fc.constant('hello' as const),
  version: fc.integer({ min: 1, max: 2 ** 31 }),
  relayId: idArb,
  region: idArb,
  policyHash: fc.string({ maxLength: 64 }),
  time: timeArb,
  nonce: bytesArb(8, 64),
  auth: bytesArb(1, 64),
})

// Every message except hello and batch (the ones a batch may carry), one arbitrary per type.
const innerArbs: Record<Exclude<PeerMessage['type'], 'hello' | 'batch'>, fc.Arbitrary<PeerMessage>> = {
  'catchup-request': fc.record({ type: fc.constant('catchup-request' as const), sinceSeq: seqArb }),
  'catchup-done': fc.record({ type: fc.constant('catchup-done' as const), upToSeq: seqArb }),
  'sync-step1': fc.record({ type: fc.constant('sync-step1' as const), doc: docArb, stateVector: bytesArb() }),
  'sync-step2': fc.record({ type: fc.constant('sync-step2' as const), doc: docArb, update: bytesArb(), seq: seqArb }),
  delta: fc.record({
    type: fc.constant('delta' as const), doc: docArb, update: bytesArb(), originRegion: idArb, originTime: timeArb, seq: seqArb,
  }),
  ack: fc.record({ type: fc.constant('ack' as const), seq: seqArb }),
  digest: fc.record({
    type: fc.constant('digest' as const),
    // 256 independent arbitraries per value is slow to generate; cycling a small pool keeps variety cheaply.
    buckets: fc.array(bytesArb(0, 32), { minLength: 1, maxLength: 8 })
      .map((pool) => Array.from({ length: PEER_DIGEST_BUCKETS }, (_, i) => pool[i % pool.length]!)),
  }),
  'digest-bucket-request': fc.record({ type: fc.constant('digest-bucket-request' as const), bucket: fc.nat(PEER_DIGEST_BUCKETS - 1) }),
  'digest-bucket': fc.record({
    type: fc.constant('digest-bucket' as const),
    bucket: fc.nat(PEER_DIGEST_BUCKETS - 1),
    entries: fc.array(fc.record({ doc: docArb, hash: bytesArb(0, 64) }), { maxLength: 8 }),
  }),
  refused: fc.record({ type: fc.constant('refused' as const), doc: docArb, reason: fc.string({ unit: 'binary', maxLength: 40 }) }),
}
const innerArb: fc.Arbitrary<PeerMessage> = fc.oneof(...Object.values(innerArbs))
const batchArb = fc.record({
  type: fc.constant('batch' as const),
  compressed: fc.boolean(),
  stream: fc.option(fc.integer({ min: 0, max: 63 }), { nil: null }),
  payload: bytesArb(0, 200),
})

const expectCode = (fn: () => unknown, code: DecodeError['code']): void => {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught, 'expected a DecodeError').toBeInstanceOf(DecodeError)
  expect((caught as DecodeError).code).toBe(code)
}

describe('peer messages: round trip', () => {
  const roundTrips = (msg: PeerMessage): void => {
    const bytes = encodePeerMessage(msg)
    const decoded = decodePeerMessage(bytes)
    expectSame(decoded, msg)
    // Canonical: what we decode re-encodes to the same bytes.
    expectSame(encodePeerMessage(decoded), bytes)
  }

  it('hello', () => fc.assert(fc.property(helloArb, roundTrips), { numRuns: RUNS }))
  for (const [type, arb] of Object.entries(innerArbs)) {
    it(type, () => fc.assert(fc.property(arb, roundTrips), { numRuns: RUNS }))
  }
  it('batch envelope', () => fc.assert(fc.property(batchArb, roundTrips), { numRuns: RUNS }))

  it('batches of mixed messages', () => {
    fc.assert(
      fc.property(fc.array(innerArb, { maxLength: 12 }), fc.boolean(), (inner, compressed) => {
        const payload = encodeBatchPayload(inner.map(encodePeerMessage))
        const outer = decodePeerMessage(encodeBatch(compressed, payload))
        expectSame(outer, { type: 'batch', compressed, stream: null, payload })
        if (outer.type !== 'batch') throw new Error('unreachable')
        expectSame(decodeBatchMessages(outer.payload), inner)
      }),
      { numRuns: RUNS },
    )
  })

  it('non-ASCII document names survive byte for byte', () => {
    for (const doc of ['café', '文档/草稿', '🦜 parrot', 'a\u0000b', 'e\u0301']) {
      const msg = decodePeerMessage(encodeSyncStep2(doc, new Uint8Array([0, 0]), 7))
      expect(msg).toEqual({ type: 'sync-step2', doc, update: new Uint8Array([0, 0]), seq: 7 })
    }
  })

  it('decoded byte fields are views of the input, not copies', () => {
    const bytes = encodeDelta('d', new Uint8Array([1, 2, 3]), 'eu', 1, 1)
    const msg = decodePeerMessage(bytes)
    if (msg.type !== 'delta') throw new Error('expected delta')
    expect(msg.update.buffer).toBe(bytes.buffer)
  })
})

describe('peer messages: golden bytes (the wire format must not drift)', () => {
  const hello: HelloMessage = {
    type: 'hello', version: 1, relayId: 'r1', region: 'eu', policyHash: 'ab', time: 1_700_000_000_000,
    nonce: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), auth: new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]),
  }
  const helloBytes = hex('00 01 02 7231 02 6575 02 6162 4278bcfe56800000 08 0102030405060708 04 aabbccdd')

  it('hello', () => {
    expect(encodeHello(hello)).toEqual(helloBytes)
    expect(decodePeerMessage(helloBytes)).toEqual(hello)
  })

  it('hello signing bytes', () => {
    const { type: _t, auth: _a, ...fields } = hello
    const context = '16 6d6572696469616e2f706565722d68656c6c6f2f7631'
    const body = '01 02 7231 02 6575 02 6162 4278bcfe56800000 08 0102030405060708'
    expect(helloSigningBytes(fields)).toEqual(hex(`${context} ${body} 00`))
    expect(helloSigningBytes(fields, new Uint8Array([9, 9]))).toEqual(hex(`${context} ${body} 02 0909`))
  })

  it('delta', () => {
    const bytes = hex('05 05 636166c3a9 02 0000 02 7573 3ff8000000000000 ac02')
    expect(encodeDelta('café', new Uint8Array([0, 0]), 'us', 1.5, 300)).toEqual(bytes)
    expect(decodePeerMessage(bytes)).toEqual({
      type: 'delta', doc: 'café', update: new Uint8Array([0, 0]), originRegion: 'us', originTime: 1.5, seq: 300,
    })
  })

  it('batch of an ack and a catch-up request', () => {
    const payload = encodeBatchPayload([encodeAck(5), encodeCatchupRequest(128)])
    expect(payload).toEqual(hex('02 02 0605 03 018001'))
    expect(encodeBatch(true, payload)).toEqual(hex('0b 01 0202060503018001'))
  })

  it('batch stream flags: bit 1, then the position modulo 64 in bits 2–7', () => {
    const payload = hex('01 02 0605')
    expect(encodeBatch(true, payload, 5)).toEqual(hex('0b 17 01020605'))
    expect(encodeBatch(false, payload, 64 + 5)).toEqual(hex('0b 16 01020605'))
    expect(decodePeerMessage(hex('0b 16 01020605'))).toEqual({ type: 'batch', compressed: false, stream: 5, payload })
    expect(decodePeerMessage(hex('0b fe'))).toEqual({ type: 'batch', compressed: false, stream: 63, payload: new Uint8Array(0) })
  })

  it('digest bucket assignment (FNV-1a 32, mod 256)', () => {
    expect(PEER_DIGEST_BUCKETS).toBe(256)
    expect([digestBucketOf(''), digestBucketOf('a'), digestBucketOf('foobar'), digestBucketOf('café')]).toEqual([197, 44, 104, 73])
  })

  it('type numbers', () => {
    expect(PEER_PROTOCOL_VERSION).toBe(2)
    expect(Object.values(PeerMessageType)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  })
})

describe('peer messages: hello', () => {
  const base: HelloMessage = {
    type: 'hello', version: 1, relayId: 'relay-a', region: 'eu', policyHash: 'h', time: 1,
    nonce: new Uint8Array(8), auth: new Uint8Array([1]),
  }

  it('signing bytes ignore auth and change with every signed field', () => {
    const signed = ['version', 'relayId', 'region', 'policyHash', 'time', 'nonce'] as const
    fc.assert(
      fc.property(helloArb, helloArb, fc.constantFrom(...signed), (a, other, field) => {
        const b: HelloMessage = { ...a, [field]: other[field], auth: other.auth }
        const sameField = field === 'nonce' ? equalBytes(a.nonce, b.nonce) : Object.is(a[field], b[field])
        const { type: _ta, auth: _aa, ...fa } = a
        const { type: _tb, auth: _ab, ...fb } = b
        expect(equalBytes(helloSigningBytes(fa), helloSigningBytes(fb))).toBe(sameField)
        expect(equalBytes(helloSigningBytes(fa), helloSigningBytes(fa, a.nonce))).toBe(false)
      }),
      { numRuns: RUNS },
    )
  })

  it('readHelloVersion reads a future hello whose body it cannot decode', () => {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, PeerMessageType.Hello)
    encoding.writeVarUint(enc, 2)
    encoding.writeVarString(enc, 'some field v1 never had')
    const future = encoding.toUint8Array(enc)
    expect(readHelloVersion(future)).toBe(2)
    expect(() => decodePeerMessage(future)).toThrow(DecodeError)
    expect(readHelloVersion(encodeHello(base))).toBe(1)
    expectCode(() => readHelloVersion(encodeAck(1)), 'bad-value')
    expectCode(() => readHelloVersion(hex('00 00')), 'bad-value')
  })

  it('decodeHello insists on a hello', () => {
    expect(decodeHello(encodeHello(base))).toEqual(base)
    expectCode(() => decodeHello(encodeAck(3)), 'bad-value')
  })
})

describe('peer messages: malformed input yields the right DecodeError code', () => {
  const delta = encodeDelta('doc', new Uint8Array([0, 0]), 'eu', 5, 9)
  const hello = encodeHello({
    version: 1, relayId: 'r', region: 'eu', policyHash: '', time: 0, nonce: new Uint8Array(8), auth: new Uint8Array(1),
  })
  const withType = (type: number, write: (enc: encoding.Encoder) => void): Uint8Array => {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, type)
    write(enc)
    return encoding.toUint8Array(enc)
  }
  const helloWith = (patch: (enc: encoding.Encoder) => void): Uint8Array =>
    withType(PeerMessageType.Hello, patch)
  const str = (enc: encoding.Encoder, s: string): void => encoding.writeVarString(enc, s)
  const bytes = (enc: encoding.Encoder, b: Uint8Array): void => encoding.writeVarUint8Array(enc, b)

  const cases: Array<[string, Uint8Array, DecodeError['code'], PeerDecodeLimits?]> = [
    ['empty input', new Uint8Array(0), 'truncated'],
    ['truncated delta', delta.subarray(0, delta.length - 1), 'truncated'],
    ['truncated float64', delta.subarray(0, 14), 'truncated'],
    ['truncated hello (inside float64)', hello.subarray(0, 10), 'truncated'],
    ['varint longer than 53 bits', hex('06 ffffffffffffffff7f'), 'varint-overflow'],
    ['varint that does not fit a safe integer', hex('06 ffffffffffffff7f'), 'varint-overflow'],
    ['type varint overflow', hex('8080808080808080 01'), 'varint-overflow'],
    ['length past end', hex('03 01 64 05 0102'), 'bad-length'],
    ['unknown type', hex('0c'), 'unknown-type'],
    ['huge unknown type', hex('ffffff0f'), 'unknown-type'],
    ['trailing bytes', hex('06 05 00'), 'trailing-bytes'],
    ['trailing bytes after delta', Uint8Array.from([...delta, 0]), 'trailing-bytes'],
    ['bad UTF-8 in doc', hex('0a 02 c328 00'), 'bad-utf8'],
    ['lone surrogate encoded in doc (CESU)', hex('0a 03 eda080 00'), 'bad-utf8'],
    ['bad UTF-8 in region', helloWith((e) => { encoding.writeVarUint(e, 1); str(e, 'r'); bytes(e, hex('ff')) }), 'bad-utf8'],
    ['version 0', helloWith((e) => { encoding.writeVarUint(e, 0) }), 'bad-value'],
    ['empty relay id', helloWith((e) => { encoding.writeVarUint(e, 1); str(e, '') }), 'bad-value'],
    ['empty region', helloWith((e) => { encoding.writeVarUint(e, 1); str(e, 'r'); str(e, '') }), 'bad-value'],
    ['region over 64 bytes', helloWith((e) => { encoding.writeVarUint(e, 1); str(e, 'r'); str(e, 'x'.repeat(65)) }), 'bad-length'],
    ['relay id over 64 bytes (multi-byte)', helloWith((e) => { encoding.writeVarUint(e, 1); str(e, 'é'.repeat(33)) }), 'bad-length'],
    ['hello time NaN', helloWith((e) => {
      encoding.writeVarUint(e, 1); str(e, 'r'); str(e, 'eu'); str(e, ''); encoding.writeFloat64(e, NaN)
    }), 'bad-value'],
    ['nonce too short', helloWith((e) => {
      encoding.writeVarUint(e, 1); str(e, 'r'); str(e, 'eu'); str(e, ''); encoding.writeFloat64(e, 0); bytes(e, new Uint8Array(7))
    }), 'bad-value'],
    ['empty auth', helloWith((e) => {
      encoding.writeVarUint(e, 1); str(e, 'r'); str(e, 'eu'); str(e, ''); encoding.writeFloat64(e, 0)
      bytes(e, new Uint8Array(8)); bytes(e, new Uint8Array(0))
    }), 'bad-value'],
    ['originTime infinite', withType(PeerMessageType.Delta, (e) => {
      str(e, 'd'); bytes(e, hex('0000')); str(e, 'eu'); encoding.writeFloat64(e, Infinity); encoding.writeVarUint(e, 1)
    }), 'bad-value'],
    ['empty doc name', withType(PeerMessageType.SyncStep1, (e) => { str(e, ''); bytes(e, hex('00')) }), 'bad-value'],
    ['bucket out of range', hex('08 8002'), 'bad-value'],
    ['digest-bucket with bucket out of range', hex('09 8002 00'), 'bad-value'],
    ['digest with the wrong bucket count', hex('07 02 00 00'), 'bad-value'],
    ['digest-bucket count past the end', hex('09 01 05 01 61 00'), 'bad-length'],
    ['standalone batch with position bits', hex('0b 05'), 'bad-value'],
    ['batch payload over maxPayloadBytes', hex('0b 00 010203'), 'too-large', { maxPayloadBytes: 2 }],
    ['doc over maxStringBytes', encodeRefused('abcdef', ''), 'bad-length', { maxStringBytes: 5 }],
    ['update over maxPayloadBytes', encodeSyncStep2('d', new Uint8Array(11)), 'bad-length', { maxPayloadBytes: 10 }],
    ['bucket entries over maxListLength', withType(PeerMessageType.DigestBucket, (e) => {
      encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 3)
      for (let i = 0; i < 3; i++) { str(e, 'd'); bytes(e, new Uint8Array(0)) }
    }), 'bad-length', { maxListLength: 2 }],
    ['whole message over maxMessageBytes', delta, 'too-large', { maxMessageBytes: delta.length - 1 }],
  ]

  it.each(cases)('%s', (_name, input, code, limits) => expectCode(() => decodePeerMessage(input, limits), code))

  it('the same messages decode under limits they fit', () => {
    expect(decodePeerMessage(encodeRefused('abcde', ''), { maxStringBytes: 5 }).type).toBe('refused')
    expect(decodePeerMessage(delta, { maxMessageBytes: delta.length }).type).toBe('delta')
  })
})

describe('peer messages: batch payload framing', () => {
  const payloadOf = (count: number, frames: Uint8Array[]): Uint8Array => {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, count)
    for (const f of frames) encoding.writeVarUint8Array(enc, f)
    return encoding.toUint8Array(enc)
  }
  const ack = encodeAck(1)
  const hello = encodeHello({
    version: 1, relayId: 'r', region: 'eu', policyHash: '', time: 0, nonce: new Uint8Array(8), auth: new Uint8Array(1),
  })

  it.each<[string, Uint8Array, DecodeError['code'], PeerDecodeLimits?]>([
    ['count claims more than could fit', payloadOf(4, [ack, ack]), 'bad-length'],
    ['count claims more, frames long enough to pass the size check', payloadOf(2, [encodeSyncStep2('doc', new Uint8Array(9))]), 'truncated'],
    ['count claims fewer than present', payloadOf(1, [ack, ack]), 'trailing-bytes'],
    ['count over maxBatchMessages', payloadOf(3, [ack, ack, ack]), 'bad-length', { maxBatchMessages: 2 }],
    ['payload over maxPayloadBytes', payloadOf(3, [ack, ack, ack]), 'too-large', { maxPayloadBytes: 4 }],
    ['empty inner frame', payloadOf(2, [new Uint8Array(0), ack]), 'truncated'],
    ['nested batch', payloadOf(1, [encodeBatch(false, payloadOf(0, []))]), 'bad-value'],
    ['hello inside a batch', payloadOf(1, [hello]), 'bad-value'],
    ['empty payload', new Uint8Array(0), 'truncated'],
  ])('%s', (_name, payload, code, limits) => expectCode(() => decodeBatchPayload(payload, limits), code))

  it('inner messages are decoded in full by decodeBatchMessages', () => {
    expectCode(() => decodeBatchMessages(payloadOf(1, [hex('06 01 00')])), 'trailing-bytes')
    expect(decodeBatchPayload(payloadOf(1, [hex('06 01 00')]))).toHaveLength(1)
  })

  it('an empty batch is valid', () => {
    expect(decodeBatchPayload(encodeBatchPayload([]))).toEqual([])
  })
})

describe('peer messages: encoders refuse values the far side would reject or misread', () => {
  const expectEncodeError = (fn: () => unknown): void => {
    expect(fn).toThrow(MeridianError)
    expect(fn).not.toThrow(DecodeError)
  }

  it.each<[string, () => unknown]>([
    ['lone surrogate in doc', () => encodeRefused('a\uD800', '')],
    ['empty doc', () => encodeSyncStep2('', new Uint8Array(0))],
    ['negative seq', () => encodeAck(-1)],
    ['fractional seq', () => encodeAck(1.5)],
    ['unsafe seq', () => encodeCatchupRequest(2 ** 53)],
    ['NaN originTime', () => encodeDelta('d', new Uint8Array(0), 'eu', NaN, 1)],
    ['empty origin region', () => encodeDelta('d', new Uint8Array(0), '', 1, 1)],
    ['region over 64 bytes', () => encodeDelta('d', new Uint8Array(0), 'x'.repeat(65), 1, 1)],
    ['bucket out of range', () => encodeDigestBucketRequest(PEER_DIGEST_BUCKETS)],
    ['wrong digest size', () => encodeDigest([new Uint8Array(1)])],
    ['nonce too short', () => encodeHello({
      version: 1, relayId: 'r', region: 'eu', policyHash: '', time: 0, nonce: new Uint8Array(7), auth: new Uint8Array(1),
    })],
    ['version 0', () => encodeHello({
      version: 0, relayId: 'r', region: 'eu', policyHash: '', time: 0, nonce: new Uint8Array(8), auth: new Uint8Array(1),
    })],
    ['nested batch in payload', () => encodeBatchPayload([encodeBatch(false, new Uint8Array([0]))])],
    ['empty frame in payload', () => encodeBatchPayload([new Uint8Array(0)])],
  ])('%s', (_name, fn) => expectEncodeError(fn))
})
