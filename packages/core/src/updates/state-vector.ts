/**
 * State vectors: for each client, the clock just past its last struct a
 * replica holds. They order replicas by inserted content only — deletions
 * live in the delete set, which a state vector does not describe, so two
 * replicas with equal state vectors can still differ by deletions, and an
 * update carrying only deletions never "adds" to a state vector.
 */
import * as encoding from 'lib0/encoding'
import { DecodeError } from '../errors.js'
import { SafeReader } from '../protocol/reader.js'
import { ANY_DEPTH_CEILING, parseUpdateV1 } from './update-parser.js'

export type StateVector = Map<number, number>

export const DEFAULT_MAX_SV_ENTRIES = 1_000_000

/**
 * Decodes the layout of `Y.encodeStateVector` (count, then client/clock
 * varint pairs) from untrusted bytes. Rejects duplicates, which yjs would
 * silently resolve by keeping the last, and trailing bytes.
 */
export function decodeStateVectorSafe(bytes: Uint8Array, maxEntries = DEFAULT_MAX_SV_ENTRIES): StateVector {
  const r = new SafeReader(bytes)
  const n = r.readVarUint('state vector size')
  if (n > maxEntries) throw new DecodeError('bad-length', `state vector: ${n} entries over the limit of ${maxEntries}`)
  if (n * 2 > r.remaining) throw new DecodeError('bad-length', `state vector: ${n} entries cannot fit in ${r.remaining} bytes`)
  const sv: StateVector = new Map()
  for (let i = 0; i < n; i++) {
    const client = r.readVarUint('state vector client')
    const clock = r.readVarUint('state vector clock')
    if (sv.has(client)) throw new DecodeError('bad-value', `state vector: client ${client} appears twice`)
    sv.set(client, clock)
  }
  r.expectEnd('state vector')
  return sv
}

const isClockValue = (n: number): boolean => Number.isSafeInteger(n) && n >= 0

/** Byte-identical to `Y.encodeStateVector(sv)`: entries sorted by client, descending. */
export function encodeStateVectorMap(sv: StateVector): Uint8Array {
  const entries = [...sv.entries()].sort((a, b) => b[0] - a[0])
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const [client, clock] of entries) {
    // lib0 would write garbage for these instead of failing.
    if (!isClockValue(client) || !isClockValue(clock)) throw new RangeError(`state vector entry ${client}:${clock} is not two non-negative safe integers`)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * How `a` relates to `b`: 'before' means b has seen everything a has and
 * more, 'after' the reverse, 'concurrent' each has something the other lacks.
 * A missing client counts as clock 0.
 */
export type SvOrder = 'equal' | 'before' | 'after' | 'concurrent'

export function compareStateVectors(a: StateVector, b: StateVector): SvOrder {
  let aAhead = false
  let bAhead = false
  for (const [client, clockA] of a) {
    const clockB = b.get(client) ?? 0
    if (clockA > clockB) aAhead = true
    else if (clockA < clockB) bAhead = true
  }
  for (const [client, clockB] of b) {
    if (clockB > 0 && !a.has(client)) bAhead = true
  }
  if (aAhead) return bAhead ? 'concurrent' : 'after'
  return bAhead ? 'before' : 'equal'
}

/** a >= b for every client: a replica at `a` holds every struct one at `b` holds. */
export function dominates(a: StateVector, b: StateVector): boolean {
  for (const [client, clockB] of b) {
    if ((a.get(client) ?? 0) < clockB) return false
  }
  return true
}

const META_BUDGET = {
  maxStructs: Number.POSITIVE_INFINITY,
  maxDeleteRanges: Number.POSITIVE_INFINITY,
  maxAnyDepth: ANY_DEPTH_CEILING,
}

/**
 * Does `update` carry any struct that a replica at `sv` lacks? Deletions are
 * deliberately ignored (state vectors do not record them), so a deletes-only
 * update returns false even though applying it changes the document; callers
 * deciding whether to forward must look at the delete set separately.
 *
 * Uses the bounded v1 parser rather than `Y.parseUpdateMeta`, which is both
 * unsafe on untrusted bytes and counts trailing Skip structs (gaps with no
 * content) as progress. Throws `DecodeError` on malformed input; size limits
 * are the caller's job (`validateUpdate`).
 */
export function updateAddsToStateVector(update: Uint8Array, sv: StateVector): boolean {
  let adds = false
  parseUpdateV1(update, META_BUDGET, (client, clock, length, skip) => {
    if (!skip && clock + length > (sv.get(client) ?? 0)) adds = true
  })
  return adds
}
