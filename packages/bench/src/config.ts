/** Command-line flags and the two run profiles (quick: under 3 minutes on 2 cores). */
export const SCENARIOS = ['fanout', 'persistence', 'memory', 'coldload', 'crossregion', 'catchup'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export interface Profile {
  name: 'quick' | 'full'
  fanout: { clients: number; inflight: number; rate: number; warmupMs: number; durationMs: number; lightWarmupMs: number; lightDurationMs: number; rounds: number }
  persistence: { docs: number; inflight: number; durationMs: number }
  memory: { docCounts: number[]; evictMs: number }
  coldload: { edits: number; samples: number }
  crossregion: { docs: number; ratesPerWriter: number[]; batchedCadenceMs: number; warmupMs: number; durationMs: number; delays: { eu_us: number; us_ap: number; eu_ap: number } }
  catchup: { docCounts: number[]; changedFraction: number }
}

const QUICK: Profile = {
  name: 'quick',
  fanout: { clients: 10, inflight: 16, rate: 20, warmupMs: 500, durationMs: 2000, lightWarmupMs: 500, lightDurationMs: 1500, rounds: 1 },
  persistence: { docs: 10, inflight: 16, durationMs: 2000 },
  memory: { docCounts: [500], evictMs: 1000 },
  coldload: { edits: 260_000, samples: 1 },
  crossregion: { docs: 10, ratesPerWriter: [5, 20], batchedCadenceMs: 100, warmupMs: 500, durationMs: 3000, delays: { eu_us: 40, us_ap: 80, eu_ap: 120 } },
  catchup: { docCounts: [1000], changedFraction: 0.01 },
}

const FULL: Profile = {
  name: 'full',
  fanout: { clients: 10, inflight: 16, rate: 20, warmupMs: 2000, durationMs: 10_000, lightWarmupMs: 1000, lightDurationMs: 8000, rounds: 3 },
  persistence: { docs: 10, inflight: 16, durationMs: 10_000 },
  memory: { docCounts: [1000, 10_000], evictMs: 1000 },
  coldload: { edits: 260_000, samples: 3 },
  crossregion: { docs: 10, ratesPerWriter: [5, 20], batchedCadenceMs: 100, warmupMs: 2000, durationMs: 15_000, delays: { eu_us: 40, us_ap: 80, eu_ap: 120 } },
  catchup: { docCounts: [1000, 10_000], changedFraction: 0.01 },
}

export interface Options {
  profile: Profile
  json: string | null
  scenarios: ScenarioName[]
  systems: string[] | null
}

export const USAGE = `usage: pnpm bench [--quick] [--json <file>] [--scenario <name>[,<name>…]] [--systems <id>[,<id>…]]
scenarios: ${SCENARIOS.join(', ')}`

export function parseArgs(argv: string[]): Options {
  const out: Options = { profile: FULL, json: null, scenarios: [...SCENARIOS], systems: null }
  const picked: ScenarioName[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`)
      return v
    }
    if (arg === '--quick') out.profile = QUICK
    else if (arg === '--json') out.json = value()
    else if (arg === '--scenario') {
      for (const name of value().split(',')) {
        if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario "${name}"\n${USAGE}`)
        picked.push(name as ScenarioName)
      }
    } else if (arg === '--systems') out.systems = value().split(',')
    else if (arg === '--help' || arg === '-h') throw new Error(USAGE)
    else throw new Error(`unknown flag "${arg}"\n${USAGE}`)
  }
  if (picked.length) out.scenarios = SCENARIOS.filter((s) => picked.includes(s))
  return out
}
