#!/usr/bin/env node
/**
 * `pnpm bench [--quick] [--json <file>] [--scenario <name>] [--systems <ids>]`:
 * every server under test runs in its own process on 127.0.0.1, load
 * generators in others; results print as Markdown tables with ratios to
 * Meridian. Everything started is stopped and every temp dir removed, also
 * on error and on Ctrl-C.
 */
import { parseArgs, type ScenarioName } from './config.js'
import { environmentLines } from './env-info.js'
import { killAllChildren, liveChildren } from './proc/children.js'
import { removeAllTempDirs } from './proc/tmp.js'
import { Report, type Column } from './report/report.js'
import { SYSTEMS } from './systems.js'
import type { RunContext } from './scenarios/context.js'
import { SCENARIO_TABLE } from './scenarios/index.js'

const cleanup = (): void => {
  killAllChildren()
  removeAllTempDirs()
}
process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping every child process and removing temp dirs\n`)
    cleanup()
    process.exit(130)
  })
}

const main = async (): Promise<void> => {
  let options
  try {
    options = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(2)
  }
  const systems = options.systems ? SYSTEMS.filter((s) => options.systems!.includes(s.id)) : SYSTEMS
  const report = new Report()
  const started = Date.now()
  const log = (m: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`)
  }
  const ctx: RunContext = { profile: options.profile, report, systems, log }

  const out: string[] = [`# Meridian benchmarks (${options.profile.name})`, '', ...environmentLines()]
  out.push('- systems (each in its own process on 127.0.0.1; clients in separate processes):')
  for (const s of systems) out.push(`  - \`${s.id}\`: ${s.describe}`)
  out.push('- Meridian durability: ratios (× M) are against `meridian` (fsync, the default); `meridian-buffered` is shown beside it.')
  out.push('- numbers from a shared, possibly busy machine are noisy; compare ratios within one run.')
  console.log(`${out.join('\n')}\n`)

  for (const name of options.scenarios) {
    const entry = SCENARIO_TABLE[name as ScenarioName]
    log(`scenario ${name}`)
    try {
      await entry.run(ctx)
    } catch (err) {
      report.note(name, `scenario aborted: ${(err as Error).message.split('\n')[0]}`)
      log(`scenario ${name} aborted: ${(err as Error).stack}`)
    }
    console.log(`## ${entry.title}\n`)
    for (const t of entry.tables(ctx)) console.log(`${report.table(t.scenario, t.columns as Column[], t.reference)}\n`)
  }
  if (options.json) {
    report.writeJson(options.json)
    log(`wrote ${report.rows.length} rows to ${options.json}`)
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${liveChildren()} child processes left`)
}

main().then(
  () => {
    cleanup()
    process.exit(0)
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`)
    cleanup()
    process.exit(1)
  },
)
