/**
 * Bounded codec for the y-protocols awareness update payload (the body of a
 * client message of type 1), byte-compatible with `y-protocols/awareness`:
 *
 *   update = varUint count, count × entry
 *   entry  = varUint clientID, varUint clock, varString state
 *
 * `state` is JSON text; the JSON value `null` means "this client went away".
 * The relay decodes client-sent updates with this to cap state size and to
 * check which client ids a connection touches, so every bound is enforced
 * before anything is allocated for it.
 */
import * as encoding from 'lib0/encoding'
import { DecodeError, MeridianError } from '../errors.js'
import { SafeReader } from './reader.js'

export interface AwarenessEntry {
  clientId: number
  clock: number
  /** JSON text; exactly `'null'` when the entry removes the client. */
  state: string
}

export interface AwarenessDecodeLimits {
  /** Most entries in one update. */
  maxEntries?: number
  /** Most UTF-8 bytes in one entry's JSON state. */
  maxStateBytes?: number
}

/**
 * Generous enough for a stock client answering query-awareness with every
 * state it knows, small enough that one message cannot make the relay parse
 * megabytes of JSON per entry.
 */
export const DEFAULT_AWARENESS_LIMITS: Readonly<Required<AwarenessDecodeLimits>> = Object.freeze({
  maxEntries: 10_000,
  maxStateBytes: 64 * 1024,
})

/** Text that marks a removal once decoded; decoding normalises any JSON `null` to it. */
export const AWARENESS_REMOVED_STATE = 'null'

/** Smallest possible entry: three one-byte varints (an empty state is invalid JSON anyway). */
const MIN_ENTRY_BYTES = 3

export const isAwarenessRemoval = (entry: AwarenessEntry): boolean => entry.state === AWARENESS_REMOVED_STATE

/**
 * Decodes and checks an awareness update. Throws only `DecodeError`:
 * 'bad-length' for a count or state over its limit, 'bad-value' for a state
 * that is not JSON, plus the reader's codes for truncation, varints, UTF-8
 * and trailing bytes.
 */
export function decodeAwarenessUpdate(bytes: Uint8Array, limits: AwarenessDecodeLimits = {}): AwarenessEntry[] {
  const maxEntries = limits.maxEntries ?? DEFAULT_AWARENESS_LIMITS.maxEntries
  const maxStateBytes = limits.maxStateBytes ?? DEFAULT_AWARENESS_LIMITS.maxStateBytes
  const r = new SafeReader(bytes)
  const count = r.readVarUint('awareness entry count')
  if (count > maxEntries) throw new DecodeError('bad-length', `awareness: ${count} entries over limit ${maxEntries}`)
  // Reject an impossible count before looping so a tiny message cannot claim
  // millions of entries and make us work until the bytes run out.
  if (count * MIN_ENTRY_BYTES > r.remaining) {
    throw new DecodeError('bad-length', `awareness: ${count} entries cannot fit in ${r.remaining} bytes`)
  }
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientId = r.readVarUint('awareness clientID')
    const clock = r.readVarUint('awareness clock')
    const text = r.readVarString('awareness state', maxStateBytes)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      throw new DecodeError('bad-value', `awareness: state of client ${clientId} is not JSON`, { cause })
    }
    // y-protocols treats any JSON null as removal; normalising lets callers
    // test `state === 'null'` without parsing again.
    entries.push({ clientId, clock, state: parsed === null ? AWARENESS_REMOVED_STATE : text })
  }
  r.expectEnd('awareness update')
  return entries
}

/**
 * Encodes entries exactly as `y-protocols/awareness` does when `state` is
 * `JSON.stringify(value)`. The state text is written as given, not
 * re-validated: callers pass text they produced or already decoded.
 */
export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, entries.length)
  for (const e of entries) {
    assertUint(e.clientId, 'clientId')
    assertUint(e.clock, 'clock')
    if (typeof e.state !== 'string') throw new MeridianError('invalid-message', 'awareness: state must be JSON text')
    encoding.writeVarUint(enc, e.clientId)
    encoding.writeVarUint(enc, e.clock)
    encoding.writeVarString(enc, e.state)
  }
  return encoding.toUint8Array(enc)
}

function assertUint(n: number, field: string): void {
  // lib0 would silently write garbage for negatives, fractions or > 2^53.
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new MeridianError('invalid-message', `awareness: ${field} must be a non-negative safe integer, got ${n}`)
  }
}
