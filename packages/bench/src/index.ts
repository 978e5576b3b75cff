/**
 * @meridian/bench — side-by-side benchmarks, run as `pnpm bench`. The
 * package is a command, not a library; these exports let tests and scripts
 * reuse the system list and the option parser.
 */
export { SYSTEMS, REFERENCE, type SystemDef } from './systems.js'
export { parseArgs, SCENARIOS, type Options, type Profile, type ScenarioName } from './config.js'
export type { Row } from './report/report.js'
