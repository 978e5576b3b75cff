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
  const ceiling = Math.min(options.maxMs, options.initialMs * options.multiplier ** exponent)
  return ceiling / 2 + (random() * ceiling) / 2
}
