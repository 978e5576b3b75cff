import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/options.js'
import type { DevClusterOptions } from '../dev/dev-cluster.js'

export const parseDevArgs = (argv: string[]): DevClusterOptions => {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', default: '7100' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: '.meridian-data' },
        'log-level': { type: 'string', default: 'warn' },
      },
    }))
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const port = Number(values.port)
  if (!/^\d+$/.test(values.port) || port > 65532) throw new ConfigError(`--port: expected 1-65532, got "${values.port}"`)
  return { port, host: values.host, dataDir: resolve(values.data), logLevel: values['log-level'] }
}
