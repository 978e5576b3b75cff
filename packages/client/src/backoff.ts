export interface BackoffOptions {
  /** Ceiling of the first delay. */
  initialMs: number
  /** Ceiling no delay ever exceeds. */
  maxMs: number
  multiplier: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 250, maxMs: 10_000, multiplier: 2 })

/**
 * Delay before retry number `attempt` (0-based). Equal jitter: half of the
 * ceiling is fixed, so a retry never collapses to zero and hammers a relay
 * that is restarting; the other half is random, so the thousands of clients a
 * dead relay drops at once do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponent = Math.max(0, Math.min(attempt, 52))
  return jittered(Math.min(options.maxMs, options.initialMs * options.multiplier ** exponent), random)
}

/**
 * The longest delay, jittered the same way: for a relay that said we are too
 * fast (4007). Every client it rate-limited in one burst must not come back
 * at the same instant and trip the limit again.
 */
export function longestBackoffDelay(options: BackoffOptions, random: () => number): number {
  return jittered(options.maxMs, random)
}

const jittered = (ceiling: number, random: () => number): number => ceiling / 2 + (random() * ceiling) / 2
