/**
 * Yjs decoder bombs and malformed v1 updates (layout: docs/updates.md and
 * packages/core/src/updates/update-parser.ts). A few bytes that declare
 * billions of structs, items or nesting levels must be refused with
 * InvalidUpdate before yjs sees them, and an update that yjs itself throws
 * on must be refused as a whole.
 */
import * as Y from 'yjs'
import { CloseCode as C } from '@meridian/core'
import {
  ANY_TAG,
  HAS_ORIGIN,
  OVERLONG_VARINT,
  REF,
  bytes,
  oneClientUpdate,
  rootItem,
  stringItem,
  syncStep2Of,
  syncUpdateOf,
  varRawString,
  varString,
  varUint,
} from '../support/bytes.js'
import { sampleUpdate, type HostileCase } from '../support/hostile-suite.js'

const MAX_CLOCK = Number.MAX_SAFE_INTEGER
/** Attacker client ids: distinct from anything Y.Doc picks at random in practice. */
const EVIL = 7

const realUpdate = sampleUpdate((doc) => {
  doc.getText('t').insert(0, 'a real update to mangle')
  doc.getMap('m').set('k', [1, 2, { x: 'y' }])
})

const realV2 = (() => {
  const doc = new Y.Doc()
  doc.clientID = 5150
  doc.getText('t').insert(0, 'v2 is not accepted')
  for (let i = 0; i < 50; i++) doc.getMap('m').set('k', i)
  const update = Y.encodeStateAsUpdateV2(doc)
  doc.destroy()
  return update
})()

const repeat = (part: readonly number[], times: number): Uint8Array => {
  const out = new Uint8Array(part.length * times)
  for (let i = 0; i < times; i++) out.set(part, i * part.length)
  return out
}

/** One `any` value nested `depth` arrays deep, ending in null. */
const nestedAny = (depth: number): Uint8Array => bytes(repeat([ANY_TAG.ARRAY, 1], depth), ANY_TAG.NULL)

const invalidUpdate = (name: string, update: Uint8Array, reason?: RegExp): HostileCase => ({
  name,
  expect: C.InvalidUpdate,
  ...(reason ? { reason } : {}),
  frames: () => [syncUpdateOf(update)],
})

const twoThirtyOneStructs = oneClientUpdate(EVIL, 0, [stringItem('x')], 2 ** 31)

export const countBombCases: HostileCase[] = [
  invalidUpdate('2^31 structs declared in a few bytes', twoThirtyOneStructs, /struct count/),
  invalidUpdate('2^53-1 clients declared', bytes(varUint(MAX_CLOCK), 0), /client count/),
  invalidUpdate('client count varint of ten bytes', bytes(OVERLONG_VARINT, 0), /varint/),
  invalidUpdate('delete set with 2^40 clients', bytes(0, varUint(2n ** 40n)), /delete set client count/),
  invalidUpdate('2^40 delete ranges for one client', bytes(0, 1, EVIL, varUint(2n ** 40n), 0, 1), /delete range count/),
  invalidUpdate('string content claiming 2^40 bytes', oneClientUpdate(EVIL, 0, [rootItem(REF.STRING, 't', varUint(2n ** 40n), 0x78)]), /string content/),
  invalidUpdate('any array claiming 2^32 elements', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, ANY_TAG.ARRAY, varUint(2n ** 32n))]), /any array/),
  invalidUpdate('any object claiming 2^32 entries', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, ANY_TAG.OBJECT, varUint(2n ** 32n))]), /any object/),
  invalidUpdate('any content claiming 2^31 items', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', varUint(2 ** 31), ANY_TAG.NULL)]), /any content count/),
  invalidUpdate('JSON content claiming 2^31 items', oneClientUpdate(EVIL, 0, [rootItem(REF.JSON, 'a', varUint(2 ** 31), varString('1'))]), /JSON content count/),
  invalidUpdate('binary content length past the end', oneClientUpdate(EVIL, 0, [rootItem(REF.BINARY, 'a', varUint(1000), 1)]), /binary/),
  invalidUpdate('any value nested 100,000 deep', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, nestedAny(100_000))]), /nested deeper/),
  invalidUpdate('any value nested one level over the limit (33)', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, nestedAny(33))]), /nested deeper/),
  invalidUpdate('JSON content nested 100,000 deep', oneClientUpdate(EVIL, 0, [rootItem(REF.JSON, 'a', 1, varString('['.repeat(100_000) + ']'.repeat(100_000)))]), /nested deeper/),
  invalidUpdate('embed nested 40 deep', oneClientUpdate(EVIL, 0, [rootItem(REF.EMBED, 't', varString('{"a":'.repeat(40) + '1' + '}'.repeat(40)))]), /nested deeper/),
]

export const malformedStructCases: HostileCase[] = [
  invalidUpdate('content ref 11', oneClientUpdate(EVIL, 0, [rootItem(11, 't', 0)]), /content ref 11/),
  invalidUpdate('content ref 31', oneClientUpdate(EVIL, 0, [rootItem(31, 't', 0)]), /content ref 31/),
  invalidUpdate('shared type ref 7', oneClientUpdate(EVIL, 0, [rootItem(REF.TYPE, 'm', 7)]), /type ref 7/),
  invalidUpdate('XmlElement type without its name', oneClientUpdate(EVIL, 0, [rootItem(REF.TYPE, 'x', 3)])),
  invalidUpdate('any tag 115', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, 115)]), /any tag 115/),
  invalidUpdate('any tag 0', oneClientUpdate(EVIL, 0, [rootItem(REF.ANY, 'a', 1, 0)]), /any tag 0/),
  invalidUpdate('embed that is not JSON', oneClientUpdate(EVIL, 0, [rootItem(REF.EMBED, 't', varString('{nope'))]), /embed/),
  invalidUpdate('format value that is not JSON', oneClientUpdate(EVIL, 0, [rootItem(REF.FORMAT, 't', varString('bold'), varString('tru'))]), /format value/),
  invalidUpdate('JSON content that is not JSON', oneClientUpdate(EVIL, 0, [rootItem(REF.JSON, 'a', 1, varString('{'))]), /JSON content/),
  invalidUpdate('zero-length string struct', oneClientUpdate(EVIL, 0, [rootItem(REF.STRING, 't', varString(''))]), /zero-length/),
  invalidUpdate('zero-length GC struct', oneClientUpdate(EVIL, 0, [bytes(REF.GC, 0)]), /zero-length/),
  invalidUpdate('GC struct with flag bits', oneClientUpdate(EVIL, 0, [bytes(REF.GC | HAS_ORIGIN, 1)]), /flag bits/),
  invalidUpdate('Skip struct with flag bits', oneClientUpdate(EVIL, 0, [bytes(REF.SKIP | 0x20, 1)]), /flag bits/),
  invalidUpdate('parent info 2', oneClientUpdate(EVIL, 0, [bytes(REF.STRING, 2, varString('x'))]), /parent info/),
  invalidUpdate('clock overflowing 2^53', oneClientUpdate(EVIL, MAX_CLOCK, [stringItem('ab')]), /overflow/),
  invalidUpdate('delete range overflowing 2^53', bytes(0, 1, EVIL, 1, varUint(MAX_CLOCK - 1), 5), /overflow/),
  invalidUpdate('subdocument options that are not an object', oneClientUpdate(EVIL, 0, [rootItem(REF.DOC, 'a', varString('guid'), ANY_TAG.STRING, varString('x'))]), /not an object/),
  invalidUpdate('string content that is not UTF-8', oneClientUpdate(EVIL, 0, [rootItem(REF.STRING, 't', varRawString([0xff, 0xfe]))]), /UTF-8/i),
  invalidUpdate('root key with an encoded surrogate', oneClientUpdate(EVIL, 0, [bytes(REF.STRING, 1, varRawString([0xed, 0xa0, 0x80]), varString('x'))]), /UTF-8/i),
  invalidUpdate('origin client varint of ten bytes', oneClientUpdate(EVIL, 0, [bytes(REF.STRING | HAS_ORIGIN, OVERLONG_VARINT, 0, varString('x'))]), /varint/),
  invalidUpdate('struct section cut short', oneClientUpdate(EVIL, 0, [stringItem('x')], 2)),
]

export const wholeUpdateCases: HostileCase[] = [
  invalidUpdate('empty update', new Uint8Array(0), /truncated|ended/),
  invalidUpdate('trailing garbage after a real update', bytes(realUpdate, 0xde, 0xad, 0xbe, 0xef), /trailing/),
  invalidUpdate('real update cut in half', realUpdate.slice(0, Math.floor(realUpdate.length / 2))),
  invalidUpdate('v2 encoding of a real document', realV2),
  { name: 'decoder bomb in sync-step2', expect: C.InvalidUpdate, reason: /struct count/, frames: () => [syncStep2Of(twoThirtyOneStructs)] },
  {
    // yjs throws only after integrating the first client's structs (its
    // transaction emits them before the exception reaches the caller); a
    // refused update must leave no trace, so the harness's "no new authors"
    // check is the point of this case.
    name: 'update yjs throws on half-way (an origin that is the item itself) is refused whole',
    expect: C.InvalidUpdate,
    frames: () => [
      syncUpdateOf(
        bytes(
          2,
          // client 9: a valid insert into the root text, integrated first
          1, 9, 0, stringItem('AAA'),
          // client 3: an item whose origin is its own id
          1, 3, 0, bytes(REF.STRING | HAS_ORIGIN, 3, 0, varString('y')),
          0,
        ),
      ),
    ],
  },
]
