/**
 * The fuzz campaign: N schedules from seed S through fast-check, each on a
 * fresh simulated cluster; a failure shrinks to a minimal schedule and
 * prints the seed and replay path.
 */
import fc from 'fast-check'
import { simCommands } from './commands.js'
import { runSchedule, type ScheduleOutcome } from './run-schedule.js'

export interface FuzzSummary {
  runs: number
  divergences: number
  lost: number
  residencyViolations: number
  seed: number
  failure: string | null
  attempted: number
  acknowledged: number
}

export interface FuzzOptions {
  runs: number
  seed: number
  path?: string
  broken?: boolean
  /** Stop at the first failure instead of shrinking it (for quick triage). */
  noShrink?: boolean
  onProgress?: (done: number) => void
  /** Called with the first failure as soon as it is seen, before shrinking starts. */
  onFirstFailure?: (report: string) => void
}

export const SIM_DOCS = ['shared/doc', 'pinned/doc', 'pair/doc']

export const runFuzz = async (options: FuzzOptions): Promise<FuzzSummary> => {
  const totals = { attempted: 0, acknowledged: 0 }
  let runs = 0
  let worst: ScheduleOutcome | null = null
  // Both peer framings: the link stream (the default) turns a frame the
  // simulator loses, repeats or reorders within a link into a closed link;
  // standalone frames let every such message through to the protocol above.
  const property = fc.asyncProperty(simCommands, fc.boolean(), async (cmds, linkStream) => {
    const outcome = await runSchedule(
      { regions: 3, clientsPerDoc: 2, docs: SIM_DOCS, seed: options.seed, linkStream, ...(options.broken ? { broken: true } : {}) },
      cmds,
    )
    runs++
    options.onProgress?.(runs)
    totals.attempted += outcome.attempted
    totals.acknowledged += outcome.acknowledged
    const bad = outcome.divergences.length > 0 || outcome.lost > 0 || outcome.residencyViolations.length > 0
    if (bad) {
      const message =
        `invariant broken: ${outcome.divergences.length} divergences, ${outcome.lost} lost acknowledged updates, ` +
        `${outcome.residencyViolations.length} residency violations\n${[...outcome.divergences, ...outcome.residencyViolations].slice(0, 5).join('\n')}`
      if (!worst) options.onFirstFailure?.(`schedule ${runs} (link stream ${linkStream ? 'on' : 'off'}): ${message}\n${String(cmds)}`)
      worst = outcome
      throw new Error(message)
    }
  })
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    ...(options.path ? { path: options.path } : {}),
    endOnFailure: options.noShrink === true,
  })
  const failed = details.failed
  const w = worst as ScheduleOutcome | null
  return {
    runs: details.numRuns,
    divergences: failed && w ? Math.max(1, w.divergences.length) : 0,
    lost: failed && w ? w.lost : 0,
    residencyViolations: failed && w ? w.residencyViolations.length : 0,
    seed: options.seed,
    failure: failed ? `${fc.defaultReportMessage(details) ?? 'failed'}\n${(details.errorInstance as Error)?.stack ?? String(details.errorInstance)}` : null,
    ...totals,
  }
}

export const summaryLine = (s: FuzzSummary): string =>
  `fuzz: ${s.runs} schedules, ${s.divergences} divergences, ${s.lost} lost acknowledged updates (seed ${s.seed})`
