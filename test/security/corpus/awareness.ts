/**
 * Awareness abuse: spoofing (setting or removing a client id another
 * connection introduced), id hoarding, oversized and invalid states. The
 * honest client `a` publishes presence in `setup`; every case checks that
 * neither the relay nor `b` ever saw it changed.
 */
import { expect } from 'vitest'
import { CloseCode as C, decodeAwarenessUpdate, encodeAwareness, encodeAwarenessUpdate, type AwarenessEntry } from '@meridian/core'
import type { RawClient } from '../../support/raw-client.js'
import { OVER_53_BITS, awarenessOf, bytes, varRawString, varString } from '../support/bytes.js'
import { DEADLINE_MS, withDeadline } from '../support/deadline.js'
import { SHARED_DOC, type CaseContext, type HostileCase } from '../support/hostile-suite.js'

/** Limits of the awareness suite's relay (small, so the caps are cheap to hit). */
export const AWARENESS_LIMITS = { maxAwarenessIdsPerConnection: 4, maxAwarenessStateBytes: 1024 } as const
/** The relay decodes at most 4 entries per allowed id in one message. */
const MAX_ENTRIES = AWARENESS_LIMITS.maxAwarenessIdsPerConnection * 4

const ALICE = JSON.stringify({ user: 'alice' })
const MALLORY = JSON.stringify({ user: 'mallory' })

/** Latest awareness entry per client id, as `client` has received them. */
export const awarenessSeenBy = (client: RawClient): Map<number, AwarenessEntry> => {
  const seen = new Map<number, AwarenessEntry>()
  for (const m of client.messages) {
    if (m.type !== 'awareness') continue
    for (const e of decodeAwarenessUpdate(m.update)) seen.set(e.clientId, e)
  }
  return seen
}

export const publishAliceState = async (ctx: CaseContext): Promise<void> => {
  const { a, b } = ctx.honest
  a.ws.send(encodeAwareness(encodeAwarenessUpdate([{ clientId: a.doc.clientID, clock: 1, state: ALICE }])))
  await withDeadline(b.waitFor(() => awarenessSeenBy(b).get(a.doc.clientID)?.state === ALICE, 'alice presence'), DEADLINE_MS, 'b to see alice')
}

const aliceIntact = (ctx: CaseContext): void => {
  const { a, b } = ctx.honest
  expect(awarenessSeenBy(b).get(a.doc.clientID)?.state, 'alice presence as b sees it').toBe(ALICE)
  const live = ctx.relay.docs.peek(SHARED_DOC)!
  expect(live.awareness.getStates().get(a.doc.clientID), 'alice presence at the relay').toEqual({ user: 'alice' })
}

const noStateFor = (...ids: number[]) => (ctx: CaseContext): void => {
  aliceIntact(ctx)
  const states = ctx.relay.docs.peek(SHARED_DOC)!.awareness.getStates()
  for (const id of ids) expect(states.has(id), `relay still holds the offender's awareness id ${id}`).toBe(false)
}

const entries = (...list: [number, number, string][]): Uint8Array => encodeAwarenessUpdate(list.map(([clientId, clock, state]) => ({ clientId, clock, state })))
const aliceId = (ctx: CaseContext): number => ctx.honest.a.doc.clientID

export const awarenessCases: HostileCase[] = [
  {
    name: "spoof: set another connection's client id",
    expect: C.AwarenessSpoof,
    frames: (ctx) => [awarenessOf(entries([aliceId(ctx), 99, MALLORY]))],
    verify: aliceIntact,
  },
  {
    name: "spoof: remove another connection's client id",
    expect: C.AwarenessSpoof,
    frames: (ctx) => [awarenessOf(entries([aliceId(ctx), 99, 'null']))],
    verify: aliceIntact,
  },
  {
    name: "spoof: remove another connection's client id at its current clock",
    expect: C.AwarenessSpoof,
    frames: (ctx) => [awarenessOf(entries([aliceId(ctx), 1, 'null']))],
    verify: aliceIntact,
  },
  {
    name: 'spoof: hidden after an entry of its own in one message',
    expect: C.AwarenessSpoof,
    frames: (ctx) => [awarenessOf(entries([5001, 1, '{}'], [aliceId(ctx), 99, MALLORY]))],
    verify: noStateFor(5001),
  },
  {
    name: 'spoof: after publishing its own presence (which leaves with it)',
    expect: C.AwarenessSpoof,
    frames: (ctx) => [awarenessOf(entries([6001, 1, '{"user":"eve"}'])), awarenessOf(entries([aliceId(ctx), 99, MALLORY]))],
    verify: noStateFor(6001),
  },
  {
    name: 'too many client ids in one message',
    expect: C.AwarenessSpoof,
    frames: () => [awarenessOf(entries([7001, 1, '{}'], [7002, 1, '{}'], [7003, 1, '{}'], [7004, 1, '{}'], [7005, 1, '{}']))],
    verify: noStateFor(7001, 7005),
  },
  {
    name: 'too many client ids across messages',
    expect: C.AwarenessSpoof,
    frames: () => [8001, 8002, 8003, 8004, 8005].map((id) => awarenessOf(entries([id, 1, '{}']))),
    verify: noStateFor(8001, 8004, 8005),
  },
  {
    name: 'more entries than the relay decodes in one message',
    expect: C.MalformedMessage,
    frames: () => [awarenessOf(entries(...Array.from({ length: MAX_ENTRIES + 1 }, (_, i): [number, number, string] => [9000, i + 1, '{}'])))],
    verify: noStateFor(9000),
  },
  { name: 'state that is not JSON', expect: C.MalformedMessage, frames: () => [awarenessOf(entries([9100, 1, '{user:']))], verify: noStateFor(9100) },
  {
    name: 'state that is not UTF-8',
    expect: C.MalformedMessage,
    frames: () => [awarenessOf(bytes(1, 0x8c, 0x47, 1, varRawString([0x22, 0xff, 0x22])))],
  },
  {
    name: 'state over maxAwarenessStateBytes',
    expect: C.MalformedMessage,
    frames: () => [awarenessOf(entries([9200, 1, JSON.stringify({ blob: 'x'.repeat(AWARENESS_LIMITS.maxAwarenessStateBytes) })]))],
    verify: noStateFor(9200),
  },
  { name: 'entry count that cannot fit', expect: C.MalformedMessage, frames: () => [awarenessOf(bytes(10, 1, 1))] },
  { name: 'entry count of 2^53-1', expect: C.MalformedMessage, frames: () => [awarenessOf(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f))] },
  { name: 'trailing bytes after the entries', expect: C.MalformedMessage, frames: () => [awarenessOf(bytes(entries([9300, 1, '{}']), 0))], verify: noStateFor(9300) },
  { name: 'client id over 53 bits', expect: C.MalformedMessage, frames: () => [awarenessOf(bytes(1, OVER_53_BITS, 1, varString('{}')))] },
  { name: 'state length past the end', expect: C.MalformedMessage, frames: () => [awarenessOf(bytes(1, 5, 1, 100, 0x7b))] },
  { name: 'empty awareness payload', expect: C.MalformedMessage, frames: () => [awarenessOf(new Uint8Array(0))] },
]
