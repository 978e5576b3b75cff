/**
 * The gate every Yjs update from the network passes before yjs sees it.
 * yjs's own decoder can be driven into unbounded loops or allocations by a
 * few bytes (see update-parser.ts), so relays run this bounded pre-check first
 * and refuse anything it rejects. Only the v1 update encoding is accepted: it
 * is what the y-websocket protocol carries, and v2's run-length streams let a
 * declared count outgrow the message, which no size check can bound.
 */
import { DecodeError } from '../errors.js'
import { ANY_DEPTH_CEILING, parseUpdateV1, type ParseBudget } from './update-parser.js'

export interface UpdateLimits extends ParseBudget {
  /** Largest update accepted, in bytes. */
  maxBytes: number
}

export const DEFAULT_UPDATE_LIMITS: Readonly<UpdateLimits> = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxStructs: 1_000_000,
  maxDeleteRanges: 1_000_000,
  maxAnyDepth: 32,
})

export interface UpdateSummary {
  /** Structs in the struct section, GC and Skip included. */
  structs: number
  deleteRanges: number
  /** Client entries in the struct section. */
  clients: number
  bytes: number
}

const resolveLimits = (limits: Partial<UpdateLimits> | undefined): UpdateLimits => {
  const merged: UpdateLimits = { ...DEFAULT_UPDATE_LIMITS }
  for (const name of Object.keys(merged) as Array<keyof UpdateLimits>) {
    const value = limits?.[name]
    if (value !== undefined) merged[name] = value
  }
  for (const [name, value] of Object.entries(merged)) {
    // A NaN or negative limit would silently disable a check; that is a caller bug.
    if (!(typeof value === 'number' && value >= 0)) throw new RangeError(`update limit ${name} must be a number >= 0, got ${String(value)}`)
  }
  if (merged.maxAnyDepth > ANY_DEPTH_CEILING) {
    throw new RangeError(`update limit maxAnyDepth must be <= ${ANY_DEPTH_CEILING}, got ${merged.maxAnyDepth}`)
  }
  return merged
}

/**
 * Checks that `update` is a well-formed Yjs v1 update within `limits`, in time
 * linear in its length. Throws `DecodeError` naming what broke; never anything
 * else for any input bytes. Passing is structural: yjs may still refuse the
 * update for semantic reasons (e.g. a parent id that names a non-type), but it
 * decodes it in bounded time.
 */
export function validateUpdate(update: Uint8Array, limits?: Partial<UpdateLimits>): UpdateSummary {
  const l = resolveLimits(limits)
  if (update.length > l.maxBytes) {
    throw new DecodeError('too-large', `update of ${update.length} bytes exceeds the ${l.maxBytes}-byte limit`)
  }
  const counts = parseUpdateV1(update, l)
  return { ...counts, bytes: update.length }
}

const NO_CONTENT: Partial<UpdateLimits> = { maxBytes: Number.POSITIVE_INFINITY, maxStructs: 0, maxDeleteRanges: 0 }

/**
 * True for a valid update that carries no structs and no deletes — usually
 * the two bytes [0, 0] that yjs emits for "nothing new". Malformed input is
 * not empty: it returns false (validate it to learn why).
 */
export function isEmptyUpdate(update: Uint8Array): boolean {
  if (update.length === 2 && update[0] === 0 && update[1] === 0) return true
  try {
    // Zero budgets make the parse stop at the first declared struct or range.
    validateUpdate(update, NO_CONTENT)
    return true
  } catch (err) {
    if (err instanceof DecodeError) return false
    throw err
  }
}
