/**
 * Every wait in the security tests is on an event; this only bounds how long
 * we wait for it, so a missing close or message fails the test with a clear
 * message instead of hanging until vitest's global timeout.
 */
export const withDeadline = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Generous for a loaded 2-core machine, far below vitest's 60 s test timeout. */
export const DEADLINE_MS = 10_000
