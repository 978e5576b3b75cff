/** Scenario registry: how to run each, and the tables it prints. */
import type { ScenarioName } from '../config.js'
import type { Column } from '../report/report.js'
import type { RunContext } from './context.js'
import { FANOUT_COLUMNS, fanout } from './fanout.js'
import { PERSISTENCE_COLUMNS, persistence } from './persistence.js'
import { memory, memoryColumns } from './memory.js'
import { COLDLOAD_COLUMNS, coldload } from './coldload.js'
import { CROSSREGION_COLUMNS, crossregion } from './crossregion.js'
import { CATCHUP_COLUMNS, catchup } from './catchup.js'

export interface TableSpec {
  scenario: string
  columns: Column[]
  /** Row the ratios are taken against (default: meridian). */
  reference?: string
}

export interface ScenarioEntry {
  title: string
  run: (ctx: RunContext) => Promise<void>
  tables: (ctx: RunContext) => TableSpec[]
}

export const SCENARIO_TABLE: Record<ScenarioName, ScenarioEntry> = {
  fanout: { title: '1. Fan-out', run: fanout, tables: () => [{ scenario: 'fanout', columns: FANOUT_COLUMNS }] },
  persistence: { title: '2. Persistence', run: persistence, tables: () => [{ scenario: 'persistence', columns: PERSISTENCE_COLUMNS }] },
  memory: { title: '3. Memory', run: memory, tables: (ctx) => [{ scenario: 'memory', columns: memoryColumns(ctx.profile.memory.docCounts) }] },
  coldload: { title: '4. Cold load', run: coldload, tables: () => [{ scenario: 'coldload', columns: COLDLOAD_COLUMNS }] },
  crossregion: { title: '5. Cross-region (Meridian only)', run: crossregion, tables: () => [{ scenario: 'crossregion', columns: CROSSREGION_COLUMNS }] },
  catchup: { title: '6. Catch-up (Meridian only)', run: catchup, tables: () => [{ scenario: 'catchup', columns: CATCHUP_COLUMNS }] },
}
