/**
 * The bounded fuzz run of the default test suite, and the test of the
 * checker itself: a relay that drops every tenth delta without repair must
 * be caught. `pnpm fuzz --runs <N> --seed <S>` runs long campaigns.
 */
import { describe, expect, it } from 'vitest'
import { runFuzz, summaryLine } from './fuzz.js'

const RUNS = Number(process.env.MERIDIAN_FUZZ_RUNS ?? 200)
const SEED = Number(process.env.MERIDIAN_FUZZ_SEED ?? Date.now() % 1_000_000)

describe('cluster simulation', () => {
  it(`converges with no lost acknowledged update over ${RUNS} fault schedules`, async () => {
    const summary = await runFuzz({ runs: RUNS, seed: SEED })
    console.log(summaryLine(summary), `— attempted ${summary.attempted}, acknowledged ${summary.acknowledged}`)
    if (summary.failure) console.log(summary.failure)
    expect(summary.failure).toBeNull()
    expect(summary.runs).toBe(RUNS)
  }, 300_000)

  it('catches a relay that drops every tenth delta without repair', async () => {
    const summary = await runFuzz({ runs: 50, seed: SEED, broken: true })
    console.log(`broken relay: ${summaryLine(summary)}`)
    expect(summary.failure).not.toBeNull()
    expect(summary.divergences + summary.lost).toBeGreaterThan(0)
  }, 300_000)
})
