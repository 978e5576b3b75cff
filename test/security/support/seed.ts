/**
 * Seeded randomness for the corpus: the seed is printed when a file starts
 * and can be replayed with MERIDIAN_SEED=<n>, so a failing random case is
 * reproducible byte for byte.
 */

/** mulberry32: tiny, fast, and good enough to pick hostile bytes. */
export const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Rng {
  seed: number
  next(): number
  int(maxExclusive: number): number
  bytes(n: number): Uint8Array
}

export const rngFromEnv = (label: string): Rng => {
  const fromEnv = process.env.MERIDIAN_SEED
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0
  // Printed unconditionally: the seed must be in the log of a failing run.
  console.log(`[${label}] seed ${seed} (replay with MERIDIAN_SEED=${seed})`)
  const next = mulberry32(seed)
  const int = (max: number): number => Math.floor(next() * max)
  return {
    seed,
    next,
    int,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(256)),
  }
}
