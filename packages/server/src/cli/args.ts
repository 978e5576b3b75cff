/**
 * Turns `meridian relay …` flags and an optional JSON config file into the
 * relay's options input. Validation of values happens once, in
 * `resolveRelayOptions`; this module only reports flags it cannot parse.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError, type RelayOptionsInput } from '../config/options.js'

export const RELAY_USAGE = `usage: meridian relay --region <name> --port <n> --data <dir>
       [--peer <region>=<ws-url> ...] [--config <file>] [--auth-secret <s>] [--peer-secret <s>]
       [--host <addr>] [--durability fsync|buffered] [--log-level <level>]`

const intFlag = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new ConfigError(`--${name}: expected a non-negative integer, got "${value}"`)
  return Number(value)
}

export const parsePeerFlag = (value: string): { region: string; url: string } => {
  const eq = value.indexOf('=')
  if (eq <= 0 || eq === value.length - 1) throw new ConfigError(`--peer: expected <region>=<ws-url>, got "${value}"`)
  return { region: value.slice(0, eq), url: value.slice(eq + 1) }
}

const readConfigFile = (path: string): Record<string, unknown> => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`--config: cannot read ${path}: ${(err as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`--config: ${path} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`--config: ${path} must hold a JSON object`)
  return value as Record<string, unknown>
}

/** Flags override the config file; secrets may also come from the environment (read by the caller). */
export const parseRelayArgs = (argv: string[], env: { authSecret?: string; peerSecret?: string } = {}): RelayOptionsInput => {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        region: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        peer: { type: 'string', multiple: true },
        config: { type: 'string' },
        'auth-secret': { type: 'string' },
        'peer-secret': { type: 'string' },
        durability: { type: 'string' },
        'log-level': { type: 'string' },
      },
    })
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const v = parsed.values
  const file = v.config ? readConfigFile(v.config) : {}
  const input: Record<string, unknown> = { ...file }
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) input[key] = value
  }
  set('region', v.region)
  set('port', intFlag('port', v.port))
  set('host', v.host)
  set('dataDir', v.data)
  set('durability', v.durability)
  set('logLevel', v['log-level'])
  set('authSecret', v['auth-secret'] ?? env.authSecret)
  set('peerSecret', v['peer-secret'] ?? env.peerSecret)
  if (v.peer) input.peers = [...((file.peers as unknown[]) ?? []), ...v.peer.map(parsePeerFlag)]
  if (input.region === undefined) throw new ConfigError('--region: required')
  // In-memory relays are for tests and embedding; from the command line an
  // omitted --data would silently lose everything on restart.
  if (input.dataDir === undefined) throw new ConfigError('--data: required (the directory of this relay\'s LevelDB)')
  return input as RelayOptionsInput
}
