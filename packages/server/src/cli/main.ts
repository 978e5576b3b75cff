#!/usr/bin/env node
/**
 * `meridian <command>`. The only place that reads environment variables
 * (MERIDIAN_AUTH_SECRET, MERIDIAN_PEER_SECRET). Exit codes: 0 success or clean
 * shutdown, 1 runtime failure, 2 bad flags or config (nothing started).
 */
import { ConfigError } from '../config/options.js'
import { parseRelayArgs, RELAY_USAGE } from './args.js'
import { parseTokenArgs, TOKEN_USAGE } from './token-args.js'
import { signToken } from '../auth/tokens.js'
import { parseDevArgs } from './dev-args.js'

const USAGE = `usage: meridian <command>

commands:
  relay   start one regional relay
  dev     start a local multi-region demo cluster
  token   print a signed client token

${RELAY_USAGE}
${TOKEN_USAGE}`

const fail = (message: string, code: number): never => {
  process.stderr.write(`meridian: ${message}\n`)
  process.exit(code)
}

const runRelay = async (argv: string[]): Promise<void> => {
  // Loaded on demand: `meridian token` should not pay for the whole relay.
  const { Relay } = await import('../relay.js')
  let relay: InstanceType<typeof Relay>
  try {
    const input = parseRelayArgs(argv, { authSecret: process.env.MERIDIAN_AUTH_SECRET, peerSecret: process.env.MERIDIAN_PEER_SECRET })
    relay = new Relay(input)
  } catch (err) {
    if (err instanceof ConfigError) return fail(`${err.message}\n${RELAY_USAGE}`, 2)
    throw err
  }
  try {
    await relay.start()
  } catch (err) {
    return fail(`relay failed to start: ${(err as Error).message}`, 1)
  }
  process.stdout.write(`meridian relay ${relay.options.region} (${relay.relayId}) listening on ${relay.url}\n`)
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    relay.logger.info({ signal }, 'stopping')
    relay.close().then(
      () => (relay.closedCleanly ? process.exit(0) : fail('stopped, but storage had failed: some updates were not stored (see the log)', 1)),
      (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`, 1),
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

const runToken = async (argv: string[]): Promise<void> => {
  let options
  try {
    options = parseTokenArgs(argv, process.env.MERIDIAN_AUTH_SECRET)
  } catch (err) {
    if (err instanceof ConfigError) return fail(`${err.message}\n${TOKEN_USAGE}`, 2)
    throw err
  }
  process.stdout.write(`${await signToken(options)}\n`)
}

const DEV_USAGE = 'usage: meridian dev [--port <demo port, default 7100>] [--data <dir, default .meridian-data>] [--log-level <level>]'

const runDev = async (argv: string[]): Promise<void> => {
  let options
  try {
    options = parseDevArgs(argv)
  } catch (err) {
    if (err instanceof ConfigError) return fail(`${err.message}\n${DEV_USAGE}`, 2)
    throw err
  }
  const { startDevCluster } = await import('../dev/dev-cluster.js')
  let cluster
  try {
    cluster = await startDevCluster(options)
  } catch (err) {
    return fail(`dev cluster failed to start: ${(err as Error).message}`, 1)
  }
  const lines = [`meridian dev: three regions listening, data in ${options.dataDir}`, `  demo       ${cluster.demoUrl}`]
  for (const [region, relay] of cluster.relays) lines.push(`  ${region.padEnd(10)} ${relay.url}   dashboard ${relay.url.replace(/^ws/, 'http')}/dashboard`)
  lines.push('Press Ctrl-C to stop.')
  process.stdout.write(`${lines.join('\n')}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    cluster.close().then(
      () => process.exit(0),
      (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`, 1),
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

const main = async (): Promise<void> => {
  const [command, ...rest] = process.argv.slice(2)
  switch (command) {
    case 'relay':
      return runRelay(rest)
    case 'token':
      return runToken(rest)
    case 'dev':
      return runDev(rest)
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`)
      return
    default:
      fail(`unknown command "${command}"\n${USAGE}`, 2)
  }
}

main().catch((err: unknown) => fail((err as Error)?.stack ?? String(err), 1))
