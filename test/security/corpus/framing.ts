/**
 * Hostile framing: varints, lengths, types and state vectors in client
 * messages, text frames and oversized frames. The relay decodes every
 * message at the edge; anything malformed closes only the offender.
 */
import { CloseCode as C, encodeBarrierDurable, encodeDurableAck, encodeRefusal, encodeRelayInfo } from '@meridian/core'
import {
  OVERLONG_VARINT,
  OVER_53_BITS,
  TRUNCATED_VARINT,
  bytes,
  syncStep1Of,
  varBytes,
  varRawString,
  varUint,
} from '../support/bytes.js'
import type { HostileCase } from '../support/hostile-suite.js'

/** The framing suite's relay runs with this message cap so oversized frames stay cheap. */
export const FRAMING_MAX_MESSAGE_BYTES = 64 * 1024

const sv = (...entries: [number, number][]): Uint8Array => bytes(varUint(entries.length), ...entries.flatMap(([c, k]) => [varUint(c), varUint(k)]))

export const varintAndLengthCases: HostileCase[] = [
  { name: 'empty binary message', expect: C.MalformedMessage, frames: () => [new Uint8Array(0)] },
  { name: 'message type varint truncated', expect: C.MalformedMessage, frames: () => [TRUNCATED_VARINT] },
  { name: 'message type varint of ten bytes', expect: C.MalformedMessage, frames: () => [OVERLONG_VARINT] },
  { name: 'message type varint over 53 bits', expect: C.MalformedMessage, frames: () => [OVER_53_BITS] },
  { name: 'sync sub-type varint truncated', expect: C.MalformedMessage, frames: () => [bytes(0, TRUNCATED_VARINT)] },
  { name: 'sync message without a sub-type', expect: C.MalformedMessage, frames: () => [bytes(0)] },
  { name: 'sync-update without a length', expect: C.MalformedMessage, frames: () => [bytes(0, 2)] },
  { name: 'sync-update length past the end', expect: C.MalformedMessage, frames: () => [bytes(0, 2, 100, 1, 2, 3)] },
  { name: 'sync-update length of 2^50', expect: C.MalformedMessage, frames: () => [bytes(0, 2, varUint(2n ** 50n), 0, 0)] },
  { name: 'sync-update length varint overflowing', expect: C.MalformedMessage, frames: () => [bytes(0, 2, OVERLONG_VARINT, 0, 0)] },
  { name: 'sync-update length over maxMessageBytes', expect: C.MalformedMessage, frames: () => [bytes(0, 2, varUint(FRAMING_MAX_MESSAGE_BYTES * 4), 0, 0)] },
  { name: 'sync-update with bytes after its payload', expect: C.MalformedMessage, frames: () => [bytes(0, 2, varBytes(bytes(0, 0)), 0xde, 0xad)] },
  { name: 'awareness length past the end', expect: C.MalformedMessage, frames: () => [bytes(1, 50, 1, 0)] },
  { name: 'awareness without a length', expect: C.MalformedMessage, frames: () => [bytes(1)] },
  { name: 'auth message with an unknown sub-type', expect: C.MalformedMessage, frames: () => [bytes(2, 1, varRawString([0x61]))] },
  { name: 'auth-denied reason that is not UTF-8', expect: C.MalformedMessage, frames: () => [bytes(2, 0, varRawString([0xc3, 0x28]))] },
  { name: 'auth-denied reason length past the end', expect: C.MalformedMessage, frames: () => [bytes(2, 0, 40, 0x61)] },
  { name: 'query-awareness with a trailing byte', expect: C.MalformedMessage, frames: () => [bytes(3, 0)] },
  { name: 'meridian-hello with version 0', expect: C.MalformedMessage, frames: () => [bytes(100, 0, 3)] },
  { name: 'meridian-hello truncated', expect: C.MalformedMessage, frames: () => [bytes(100, 1)] },
  { name: 'meridian-hello features varint overflowing', expect: C.MalformedMessage, frames: () => [bytes(100, 1, OVERLONG_VARINT)] },
  { name: 'durable-barrier id varint overflowing', expect: C.MalformedMessage, frames: () => [bytes(104, OVERLONG_VARINT)] },
  { name: 'durable-barrier without an id', expect: C.MalformedMessage, frames: () => [bytes(104)] },
]

export const typeCases: HostileCase[] = [
  { name: 'unknown sync sub-type 3', expect: C.MalformedMessage, frames: () => [bytes(0, 3, varBytes(bytes(0, 0)))] },
  { name: 'unknown sync sub-type 2^40', expect: C.MalformedMessage, frames: () => [bytes(0, varUint(2n ** 40n), 0)] },
  { name: 'unknown message type 4 (upstream range)', expect: C.MalformedMessage, frames: () => [bytes(4, 0)] },
  { name: 'unknown message type 99', expect: C.MalformedMessage, frames: () => [bytes(99)] },
  // 104 and 105 are the durable barrier; 106–127 are the free Meridian range.
  { name: 'unknown message type 106 (free Meridian range)', expect: C.MalformedMessage, frames: () => [bytes(106, 0)] },
  { name: 'unknown message type 127 (end of the Meridian range)', expect: C.MalformedMessage, frames: () => [bytes(127)] },
  { name: 'unknown message type 300 (two-byte varint)', expect: C.MalformedMessage, frames: () => [bytes(varUint(300), 0)] },
  { name: 'relay-only durable-ack sent by a client', expect: C.MalformedMessage, frames: () => [encodeDurableAck(sv([1, 5]))] },
  { name: 'relay-only relay-info sent by a client', expect: C.MalformedMessage, frames: () => [encodeRelayInfo('eu', 'eu-fake', ['eu', 'us'])] },
  { name: 'relay-only refusal sent by a client', expect: C.MalformedMessage, frames: () => [encodeRefusal(C.WrongRegion, 'go away', ['us'])] },
  { name: 'relay-only barrier-durable sent by a client', expect: C.MalformedMessage, frames: () => [encodeBarrierDurable(1)] },
  { name: 'text frame', expect: C.UnsupportedData, frames: () => ['hello relay'] },
  { name: 'text frame carrying protocol bytes', expect: C.UnsupportedData, frames: () => [String.fromCharCode(0, 0, 1, 0)] },
  { name: 'text frame after a valid message', expect: C.UnsupportedData, frames: () => [bytes(3), '{"type":"sync"}'] },
  {
    name: 'frame over maxMessageBytes',
    expect: 1009,
    frames: () => [bytes(0, 2, varBytes(new Uint8Array(FRAMING_MAX_MESSAGE_BYTES + 16)))],
  },
]

export const stateVectorCases: HostileCase[] = [
  { name: 'sync-step1 state vector empty', expect: C.MalformedMessage, frames: () => [syncStep1Of(new Uint8Array(0))] },
  { name: 'sync-step1 state vector missing an entry', expect: C.MalformedMessage, frames: () => [syncStep1Of(bytes(2, 1, 5))] },
  { name: 'sync-step1 state vector claiming 2^40 entries', expect: C.MalformedMessage, frames: () => [syncStep1Of(bytes(varUint(2n ** 40n), 1, 1))] },
  { name: 'sync-step1 state vector with a trailing byte', expect: C.MalformedMessage, frames: () => [syncStep1Of(bytes(sv([1, 5]), 7))] },
  { name: 'sync-step1 state vector with a duplicate client', expect: C.MalformedMessage, frames: () => [syncStep1Of(sv([1, 5], [1, 9]))] },
  { name: 'sync-step1 state vector clock over 53 bits', expect: C.MalformedMessage, frames: () => [syncStep1Of(bytes(1, 1, OVER_53_BITS))] },
  { name: 'sync-step1 state vector client varint truncated', expect: C.MalformedMessage, frames: () => [syncStep1Of(bytes(1, 0x80))] },
  { name: 'sync-step1 length past the end', expect: C.MalformedMessage, frames: () => [bytes(0, 0, 10, 1, 1)] },
]
