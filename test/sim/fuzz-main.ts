/**
 * `pnpm fuzz --runs <N> --seed <S> [--path <replay path>] [--broken] [--no-shrink]`: a long
 * fuzz campaign outside the test runner. Ends with the line
 * `fuzz: <N> schedules, <D> divergences, <L> lost acknowledged updates (seed <S>)`
 * and exits non-zero on any divergence, loss or residency violation.
 */
import { parseArgs } from 'node:util'
import { runFuzz, summaryLine } from './fuzz.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    path: { type: 'string' },
    broken: { type: 'boolean', default: false },
    'no-shrink': { type: 'boolean', default: false },
  },
})
const runs = Number(values.runs)
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000_000
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: pnpm fuzz --runs <N> --seed <S> [--path <replay path>] [--broken] [--no-shrink]\n')
  process.exit(2)
}

const started = Date.now()
const summary = await runFuzz({
  runs,
  seed,
  ...(values.path ? { path: values.path } : {}),
  broken: values.broken,
  noShrink: values['no-shrink'],
  onFirstFailure: (report) => process.stderr.write(`first failure (shrinking follows unless --no-shrink):\n${report}\n`),
  onProgress: (done) => {
    if (done % 100 === 0) process.stderr.write(`… ${done} schedules (${((Date.now() - started) / 1000).toFixed(0)} s)\n`)
  },
})
if (summary.failure) process.stdout.write(`${summary.failure}\n`)
process.stdout.write(`attempted ${summary.attempted}, acknowledged ${summary.acknowledged} updates in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
process.stdout.write(`${summaryLine(summary)}\n`)
process.exit(summary.failure ? 1 : 0)
