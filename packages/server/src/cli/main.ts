#!/usr/bin/env node
/**
 * `meridian <command>`. The only place that reads environment variables
 * (MERIDIAN_AUTH_SECRET, MERIDIAN_PEER_SECRET). Exit codes: 0 success or clean
 * shutdown, 1 runtime failure, 2 bad flags or config (nothing started).
 */
import { ConfigError } from '../config/options.js'
import { Relay } from '../relay.js'
import { parseRelayArgs, RELAY_USAGE } from './args.js'
import { parseTokenArgs, TOKEN_USAGE } from './token-args.js'
import { signToken } from '../auth/tokens.js'

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
  let relay: Relay
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
      () => process.exit(0),
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

const main = async (): Promise<void> => {
  const [command, ...rest] = process.argv.slice(2)
  switch (command) {
    case 'relay':
      return runRelay(rest)
    case 'token':
      return runToken(rest)
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
