/**
 * The HTTP request target is the first thing a stranger controls. Node
 * accepts targets such as `//[` or `//host:99999/x` (origin-form with an
 * authority-looking prefix); whatever the relay does with one, a single
 * request must never take the process down. Runs the relay as a child
 * process (the built CLI: `npx tsc -b` first) so that a crash is observed as
 * an exit rather than killing the test runner.
 */
import { afterAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { makeTempDir } from '../support/temp-dir.js'
import { startRelayProcess, type RelayProcess } from '../support/relay-process.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'
import { healthzStatus } from './support/stored.js'

let relay: RelayProcess | null = null
let dir: { path: string; remove: () => Promise<void> } | null = null

/** The relay under test, (re)started if a previous case killed it. */
const ensureRelay = async (): Promise<RelayProcess> => {
  dir ??= await makeTempDir('meridian-target-')
  if (relay && relay.child.exitCode === null && relay.child.signalCode === null) return relay
  relay = await startRelayProcess(['--region', 'eu', '--port', '0', '--data', dir.path])
  return relay
}

afterAll(async () => {
  await relay?.kill()
  await dir?.remove()
})

/** Sends one raw request and resolves with the status line (or '' if the connection just closed). */
const rawRequest = (port: number, target: string, upgrade: boolean): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let answer = ''
    const done = (): void => {
      socket.destroy()
      resolve(answer.split('\r\n')[0] ?? '')
    }
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1')
      // The status line is all we need; a 101 would otherwise stay open.
      if (answer.includes('\r\n')) done()
    })
    socket.on('close', done)
    socket.on('error', done)
    const headers = upgrade
      ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
      : 'Connection: close\r\n'
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`)
  })

describe('hostile HTTP request targets', () => {
  const targets: [string, boolean][] = [
    // Control: an ordinary target, so a failure below is about the target.
    ['/some%2Fdoc', true],
    ['//[', false],
    ['//[', true],
    ['//a:99999/x', true],
    ['http://[/x', false],
  ]
  for (const [target, upgrade] of targets) {
    it(`${upgrade ? 'upgrade' : 'GET'} ${target} leaves the relay serving`, async () => {
      const r = await ensureRelay()
      const status = await withDeadline(rawRequest(r.port, target, upgrade), DEADLINE_MS, 'an answer')
      // Exit is asynchronous after an uncaught exception; /healthz races it,
      // so check both: a dead relay fails one or the other.
      const health = await healthzStatus(r.port).catch((err: Error) => `unreachable: ${err.message}`)
      // A relay that failed is stopped for good, so the next case starts a fresh one.
      if (health !== 200) await r.kill()
      expect(health, `relay after "${target}" (answer: ${JSON.stringify(status)}); output:\n${r.output().slice(-600)}`).toBe(200)
      expect(r.child.exitCode, 'relay exited').toBeNull()
    })
  }
})
