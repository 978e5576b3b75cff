import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as authProtocol from 'y-protocols/auth'
import { DecodeError, MeridianError, type DecodeErrorCode } from '../src/errors.js'
import {
  ClientFeature,
  decodeClientMessage,
  encodeAuthDenied,
  encodeAwareness,
  encodeBarrierDurable,
  encodeClientMessage,
  encodeDurableBarrier,
  encodeDurableAck,
  encodeMeridianHello,
  encodeQueryAwareness,
  encodeRefusal,
  encodeRelayInfo,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  hasFeature,
  MERIDIAN_CLIENT_PROTOCOL_VERSION,
  MessageType,
  type ClientDecodeLimits,
  type ClientMessage,
} from '../src/protocol/client-messages.js'
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from '../src/protocol/awareness-update.js'

const RUNS = 1000

/** What y-websocket does: a message type, then the y-protocols body. */
const wrap = (type: number, write: (enc: encoding.Encoder) => void): Uint8Array => {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, type)
  write(enc)
  return encoding.toUint8Array(enc)
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

const expectCode = (run: () => unknown, code: DecodeErrorCode): void => {
  let caught: unknown
  try {
    run()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(DecodeError)
  expect((caught as DecodeError).code).toBe(code)
}

const docWithText = (clientID: number, text: string): Y.Doc => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  doc.getMap('m').set('k', [1, 'zwei', { drei: true }])
  return doc
}

describe('compatibility with y-protocols / y-websocket', () => {
  it('decodes sync step1, step2 and update written by y-protocols, and encodes them byte-identically', () => {
    const doc = docWithText(7, 'héllo wörld ✓')
    const other = docWithText(9, 'other')
    const otherSv = Y.encodeStateVector(other)

    const step1 = wrap(MessageType.Sync, (enc) => syncProtocol.writeSyncStep1(enc, doc))
    expect(decodeClientMessage(step1)).toEqual({ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) })
    expect(encodeSyncStep1(Y.encodeStateVector(doc))).toEqual(step1)

    const step2 = wrap(MessageType.Sync, (enc) => syncProtocol.writeSyncStep2(enc, doc, otherSv))
    expect(decodeClientMessage(step2)).toEqual({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc, otherSv) })
    expect(encodeSyncStep2(Y.encodeStateAsUpdate(doc, otherSv))).toEqual(step2)

    const update = Y.encodeStateAsUpdate(doc)
    const upd = wrap(MessageType.Sync, (enc) => syncProtocol.writeUpdate(enc, update))
    expect(decodeClientMessage(upd)).toEqual({ type: 'sync-update', update })
    expect(encodeSyncUpdate(update)).toEqual(upd)
  })

  it('our sync messages are read by y-protocols and converge a stock doc', () => {
    const source = docWithText(3, 'from meridian ✓')
    const target = new Y.Doc()
    const reply = encoding.createEncoder()
    const dec = decoding.createDecoder(encodeSyncUpdate(Y.encodeStateAsUpdate(source)))
    expect(decoding.readVarUint(dec)).toBe(MessageType.Sync)
    syncProtocol.readSyncMessage(dec, reply, target, null)
    expect(target.getText('t').toString()).toBe('from meridian ✓')

    // A step1 from us makes y-protocols answer with a step2 we can decode.
    const step1 = decoding.createDecoder(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    decoding.readVarUint(step1)
    const answer = encoding.createEncoder()
    encoding.writeVarUint(answer, MessageType.Sync)
    syncProtocol.readSyncMessage(step1, answer, source, null)
    const msg = decodeClientMessage(encoding.toUint8Array(answer))
    expect(msg.type).toBe('sync-step2')
    const fresh = new Y.Doc()
    Y.applyUpdate(fresh, (msg as { update: Uint8Array }).update)
    expect(fresh.getText('t').toString()).toBe('from meridian ✓')
  })

  it('decodes awareness updates from y-protocols and re-encodes them byte-identically', () => {
    const doc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState({ user: { name: 'Zoë 🐙', color: '#ff0' }, cursor: null })
    const id = doc.clientID
    const payload = awarenessProtocol.encodeAwarenessUpdate(awareness, [id])
    const message = wrap(MessageType.Awareness, (enc) => encoding.writeVarUint8Array(enc, payload))

    const msg = decodeClientMessage(message)
    expect(msg).toEqual({ type: 'awareness', update: payload })
    const entries = decodeAwarenessUpdate((msg as { update: Uint8Array }).update)
    const clock = awareness.meta.get(id)!.clock
    expect(entries).toEqual([{ clientId: id, clock, state: JSON.stringify(awareness.getLocalState()) }])
    expect(encodeAwarenessUpdate(entries)).toEqual(payload)
    expect(encodeAwareness(payload)).toEqual(message)

    // Removal: y-protocols writes JSON null for a client without state.
    const removal = awarenessProtocol.encodeAwarenessUpdate(awareness, [id], new Map())
    expect(decodeAwarenessUpdate(removal)).toEqual([{ clientId: id, clock, state: 'null' }])
    awareness.destroy()
  })

  it('y-protocols applies awareness updates we encode', () => {
    const doc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(doc)
    const entries: AwarenessEntry[] = [
      { clientId: 4242, clock: 3, state: JSON.stringify({ name: 'Łukasz' }) },
      { clientId: 2 ** 32 - 1, clock: 1, state: '{"a":[1,2]}' },
    ]
    awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate(entries), 'test')
    expect(awareness.getStates().get(4242)).toEqual({ name: 'Łukasz' })
    expect(awareness.getStates().get(2 ** 32 - 1)).toEqual({ a: [1, 2] })
    awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate([{ clientId: 4242, clock: 4, state: 'null' }]), 'test')
    expect(awareness.getStates().has(4242)).toBe(false)
    awareness.destroy()
  })

  it('matches y-protocols awareness encoding for arbitrary states', () => {
    fc.assert(
      fc.property(
        // Awareness states are objects (or null); y-protocols writes any falsy
        // state as null, so primitives are not a meaningful comparison.
        fc.uniqueArray(fc.record({ clientId: fc.nat(), clock: fc.nat(), value: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })) }), {
          selector: (e) => e.clientId,
          maxLength: 6,
        }),
        (raw) => {
          // encodeAwarenessUpdate only reads `meta` clocks and the states map.
          const meta = new Map(raw.map((e) => [e.clientId, { clock: e.clock, lastUpdated: 0 }]))
          const states = new Map(raw.map((e) => [e.clientId, e.value as Record<string, unknown>]))
          const fake = { meta, states } as unknown as awarenessProtocol.Awareness
          const theirs = awarenessProtocol.encodeAwarenessUpdate(fake, raw.map((e) => e.clientId), states)
          const ours = encodeAwarenessUpdate(raw.map((e) => ({ clientId: e.clientId, clock: e.clock, state: JSON.stringify(e.value ?? null) })))
          // Hex keeps the diff readable and is far cheaper than a deep element-wise compare.
          expect(hex(ours)).toBe(hex(theirs))
          expect(hex(encodeAwarenessUpdate(decodeAwarenessUpdate(theirs)))).toBe(hex(theirs))
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('decodes auth permission-denied and query-awareness as y-websocket writes them', () => {
    const denied = wrap(MessageType.Auth, (enc) => authProtocol.writePermissionDenied(enc, 'no token — nein'))
    expect(decodeClientMessage(denied)).toEqual({ type: 'auth-denied', reason: 'no token — nein' })
    expect(encodeAuthDenied('no token — nein')).toEqual(denied)
    const query = wrap(MessageType.QueryAwareness, () => {})
    expect(decodeClientMessage(query)).toEqual({ type: 'query-awareness' })
    expect(encodeQueryAwareness()).toEqual(query)
  })
})

// ------------------------------------------------------------ round trips

const bytes = fc.uint8Array({ maxLength: 96 })
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }))
const regions = fc.array(text, { maxLength: 8 })
const stateVector = fc
  .array(fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.maxSafeNat()), { maxLength: 6 })
  .map((pairs) => Y.encodeStateVector(new Map(pairs)))

const perType: Record<ClientMessage['type'], fc.Arbitrary<ClientMessage>> = {
  'sync-step1': stateVector.map((stateVector) => ({ type: 'sync-step1', stateVector })),
  'sync-step2': bytes.map((update) => ({ type: 'sync-step2', update })),
  'sync-update': bytes.map((update) => ({ type: 'sync-update', update })),
  awareness: bytes.map((update) => ({ type: 'awareness', update })),
  'auth-denied': text.map((reason) => ({ type: 'auth-denied', reason })),
  'query-awareness': fc.constant({ type: 'query-awareness' }),
  'meridian-hello': fc
    .record({ version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), features: fc.maxSafeNat() })
    .map((r) => ({ type: 'meridian-hello', ...r })),
  'durable-ack': stateVector.map((stateVector) => ({ type: 'durable-ack', stateVector })),
  'relay-info': fc.record({ region: text, relayId: text, regions }).map((r) => ({ type: 'relay-info', ...r })),
  refusal: fc
    .record({ code: fc.integer({ min: 1000, max: 4999 }), reason: text, regions })
    .map((r) => ({ type: 'refusal', ...r })),
  'durable-barrier': fc.maxSafeNat().map((id) => ({ type: 'durable-barrier', id })),
  'barrier-durable': fc.maxSafeNat().map((id) => ({ type: 'barrier-durable', id })),
}

describe('round trips', () => {
  it.each(Object.entries(perType))('%s survives encode → decode', (_name, arb) => {
    fc.assert(
      fc.property(arb, (msg) => {
        const wire = encodeClientMessage(msg)
        expect(decodeClientMessage(wire)).toEqual(msg)
      }),
      { numRuns: RUNS },
    )
  })

  it('awareness entries survive encode → decode', () => {
    const entry = fc.record({
      clientId: fc.maxSafeNat(),
      clock: fc.maxSafeNat(),
      state: fc.jsonValue().map((v) => JSON.stringify(v)),
    })
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        expect(decodeAwarenessUpdate(encodeAwarenessUpdate(entries))).toEqual(entries)
      }),
      { numRuns: RUNS },
    )
  })

  it('returns byte fields as views into the input, not copies', () => {
    const wire = encodeSyncUpdate(Uint8Array.of(1, 2, 3))
    const msg = decodeClientMessage(wire) as { update: Uint8Array }
    expect(msg.update.buffer).toBe(wire.buffer)
    wire[wire.length - 1] = 9
    expect(msg.update[2]).toBe(9)
  })

  it('advertises the protocol version and feature bits', () => {
    const hello = encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck | ClientFeature.RelayInfo)
    expect(hello).toEqual(Uint8Array.of(100, 1, 3))
    const msg = decodeClientMessage(hello) as { features: number }
    expect(hasFeature(msg.features, ClientFeature.DurableAck)).toBe(true)
    expect(hasFeature(msg.features, ClientFeature.RelayInfo)).toBe(true)
    expect(hasFeature(ClientFeature.RelayInfo, ClientFeature.DurableAck)).toBe(false)
    expect(hasFeature(2 ** 40 + 1, ClientFeature.DurableAck)).toBe(true)
  })

  it('frames a durable barrier and its answer as type, then the id as one varUint', () => {
    expect(encodeDurableBarrier(5)).toEqual(Uint8Array.of(104, 5))
    expect(encodeBarrierDurable(300)).toEqual(Uint8Array.of(105, 0xac, 0x02))
    expect(decodeClientMessage(Uint8Array.of(104, 0))).toEqual({ type: 'durable-barrier', id: 0 })
    expect(decodeClientMessage(encodeBarrierDurable(Number.MAX_SAFE_INTEGER))).toEqual({ type: 'barrier-durable', id: Number.MAX_SAFE_INTEGER })
  })

  it('encoders refuse values the decoder would reject', () => {
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run()
      } catch (err) {
        return err instanceof MeridianError ? err.code : 'not-a-meridian-error'
      }
      return undefined
    }
    expect(codeOf(() => encodeMeridianHello(0, 0))).toBe('invalid-message')
    expect(codeOf(() => encodeMeridianHello(1, -1))).toBe('invalid-message')
    expect(codeOf(() => encodeMeridianHello(1, 2 ** 53))).toBe('invalid-message')
    expect(codeOf(() => encodeRefusal(999, 'x', []))).toBe('invalid-message')
    expect(codeOf(() => encodeRefusal(5000, 'x', []))).toBe('invalid-message')
    expect(codeOf(() => encodeAwarenessUpdate([{ clientId: 1.5, clock: 0, state: 'null' }]))).toBe('invalid-message')
    expect(codeOf(() => encodeDurableBarrier(-1))).toBe('invalid-message')
    expect(codeOf(() => encodeDurableBarrier(0.5))).toBe('invalid-message')
    expect(codeOf(() => encodeBarrierDurable(2 ** 53))).toBe('invalid-message')
    expect(codeOf(() => encodeRefusal(4004, 'wrong region', ['eu-west']))).toBeUndefined()
  })
})

// ------------------------------------------------------------ malformed input

describe('malformed messages give the right DecodeError code', () => {
  const cases: Array<[string, number[], DecodeErrorCode, ClientDecodeLimits?]> = [
    ['empty message', [], 'truncated'],
    ['truncated message type varint', [0x80], 'truncated'],
    ['truncated length varint', [0, 2, 0x85], 'truncated'],
    ['sync without sub-type', [0], 'truncated'],
    ['overflowing type varint (9 continuation bytes)', [...Array<number>(9).fill(0xff), 0x01], 'varint-overflow'],
    ['overflowing length varint', [0, 2, ...Array<number>(10).fill(0x80), 0x01], 'varint-overflow'],
    ['8-byte varint past 2^53', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'varint-overflow'],
    ['length past end', [0, 2, 5, 1, 2], 'bad-length'],
    ['awareness length past end', [1, 100, 1, 0], 'bad-length'],
    ['payload over limit', [0, 2, 4, 1, 2, 3, 4], 'bad-length', { maxPayloadBytes: 3 }],
    ['string over limit', [2, 0, 3, 0x61, 0x62, 0x63], 'bad-length', { maxStringBytes: 2 }],
    ['list over limit', [102, 0, 0, 3, 0, 0, 0], 'bad-length', { maxListLength: 2 }],
    ['list count past end', [103, 0xa4, 0x1f, 0, 100], 'bad-length'],
    ['unknown type 4', [4], 'unknown-type'],
    ['unknown type 99', [99], 'unknown-type'],
    ['unused reserved type 106', [106], 'unknown-type'],
    ['unused reserved type 127', [127], 'unknown-type'],
    ['durable-barrier without id', [104], 'truncated'],
    ['barrier-durable with a cut-off id', [105, 0x80], 'truncated'],
    ['durable-barrier id past 2^53', [104, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'varint-overflow'],
    ['trailing bytes after durable-barrier', [104, 1, 0], 'trailing-bytes'],
    ['trailing bytes after barrier-durable', [105, 7, 7], 'trailing-bytes'],
    ['unknown two-byte type', [0x80, 0x01], 'unknown-type'],
    ['unknown sync sub-type', [0, 3, 0], 'unknown-type'],
    ['unknown auth sub-type', [2, 1, 0], 'unknown-type'],
    ['trailing bytes after update', [0, 2, 1, 7, 0], 'trailing-bytes'],
    ['trailing bytes after query-awareness', [3, 0], 'trailing-bytes'],
    ['invalid UTF-8 (bad continuation)', [2, 0, 2, 0xc3, 0x28], 'bad-utf8'],
    ['invalid UTF-8 (overlong slash)', [2, 0, 2, 0xc0, 0xaf], 'bad-utf8'],
    ['invalid UTF-8 (encoded surrogate)', [102, 3, 0xed, 0xa0, 0x80, 0, 0], 'bad-utf8'],
    ['hello with version 0', [100, 0, 0], 'bad-value'],
    ['refusal code below 1000', [103, 0x80, 0x01, 0, 0], 'bad-value'],
    ['state vector with impossible count', [0, 0, 2, 5, 1], 'bad-length'],
    ['empty state vector', [0, 0, 0], 'truncated'],
    ['state vector with trailing bytes', [101, 4, 1, 1, 1, 9], 'trailing-bytes'],
  ]
  it.each(cases)('%s', (_name, wire, code, limits) => {
    expectCode(() => decodeClientMessage(Uint8Array.from(wire), limits), code)
  })

  const awarenessCases: Array<[string, number[], DecodeErrorCode, { maxEntries?: number; maxStateBytes?: number }?]> = [
    ['empty', [], 'truncated'],
    ['entry count past end', [5, 1, 1, 4], 'bad-length'],
    ['truncated clock', [1, 1, 0x80, 0x80], 'truncated'],
    ['state is not JSON', [1, 1, 1, 3, 0x7b, 0x61, 0x7d], 'bad-value'],
    ['state empty', [1, 1, 1, 0], 'bad-value'],
    ['state invalid UTF-8', [1, 1, 1, 2, 0xc3, 0x28], 'bad-utf8'],
    ['too many entries', [2, 1, 1, 1, 0x30, 2, 1, 1, 0x30], 'bad-length', { maxEntries: 1 }],
    ['state over limit', [1, 1, 1, 4, 0x6e, 0x75, 0x6c, 0x6c], 'bad-length', { maxStateBytes: 3 }],
    ['trailing bytes', [1, 1, 1, 1, 0x30, 0], 'trailing-bytes'],
  ]
  it.each(awarenessCases)('awareness: %s', (_name, wire, code, limits) => {
    expectCode(() => decodeAwarenessUpdate(Uint8Array.from(wire), limits), code)
  })

  it('normalises any JSON null state to the removal marker', () => {
    expect(decodeAwarenessUpdate(Uint8Array.of(1, 1, 1, 6, 0x20, 0x6e, 0x75, 0x6c, 0x6c, 0x0a))[0]!.state).toBe('null')
  })

  it('accepts limits exactly at the boundary', () => {
    const wire = Uint8Array.from([...encodeRelayInfo('ab', 'cd', ['ef', 'gh'])])
    expect(decodeClientMessage(wire, { maxStringBytes: 2, maxListLength: 2 }).type).toBe('relay-info')
    expect(decodeClientMessage(encodeDurableAck(Uint8Array.of(0)), { maxPayloadBytes: 1 }).type).toBe('durable-ack')
  })
})
