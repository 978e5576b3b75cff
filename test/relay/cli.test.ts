/**
 * The `meridian relay` CLI contract: bad flags or config exit 2 with a message
 * naming the field and start nothing; SIGTERM/SIGINT flush and exit 0.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../support/temp-dir.js'
import { runCliToExit, startRelayProcess } from '../support/relay-process.js'
import { connectRawClient, covers } from '../support/raw-client.js'
import * as Y from 'yjs'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const tempDir = async (): Promise<string> => {
  const dir = await makeTempDir()
  cleanups.push(dir.remove)
  return dir.path
}

describe('meridian relay: bad input exits 2 naming the field', () => {
  const relay = (dir: string, ...flags: string[]): string[] => ['relay', '--data', join(dir, 'data'), ...flags]
  const cases: [string, (dir: string) => Promise<string[]>, RegExp][] = [
    ['unknown flag', async (dir) => relay(dir, '--region', 'eu', '--bogus', '1'), /bogus/],
    ['missing region', async (dir) => relay(dir, '--port', '0'), /--region/],
    ['missing data directory', async () => ['relay', '--region', 'eu', '--port', '0'], /--data: required/],
    ['port not a number', async (dir) => relay(dir, '--region', 'eu', '--port', 'abc'), /--port/],
    ['port out of range', async (dir) => relay(dir, '--region', 'eu', '--port', '70000'), /port/],
    ['bad region name', async (dir) => relay(dir, '--region', 'EU!', '--port', '0'), /region/],
    ['malformed peer', async (dir) => relay(dir, '--region', 'eu', '--peer', 'us'), /--peer/],
    ['peer with a bad url', async (dir) => relay(dir, '--region', 'eu', '--peer', 'us=http://x'), /peers\[0\]\.url/],
    ['bad durability', async (dir) => relay(dir, '--region', 'eu', '--durability', 'sometimes'), /durability/],
    ['missing config file', async (dir) => relay(dir, '--region', 'eu', '--config', join(dir, 'nope.json')), /--config/],
    [
      'config not JSON',
      async (dir) => {
        await writeFile(join(dir, 'c.json'), '{ nope')
        return relay(dir, '--region', 'eu', '--config', join(dir, 'c.json'))
      },
      /not valid JSON/,
    ],
    [
      'invalid policy rule',
      async (dir) => {
        await writeFile(join(dir, 'c.json'), JSON.stringify({ policies: [{ match: '**', regions: '*' }, { match: 'x/**', regions: [] }] }))
        return relay(dir, '--region', 'eu', '--config', join(dir, 'c.json'))
      },
      /policies\[1\]/,
    ],
    [
      'unknown config key',
      async (dir) => {
        await writeFile(join(dir, 'c.json'), JSON.stringify({ regoin: 'eu' }))
        return relay(dir, '--region', 'eu', '--config', join(dir, 'c.json'))
      },
      /regoin/,
    ],
  ]
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const dir = await tempDir()
      const { code, stderr, stdout } = await runCliToExit(await args(dir))
      expect(code).toBe(2)
      expect(stderr).toMatch(pattern)
      expect(stdout).not.toMatch(/listening/)
      // Nothing started: not even the data directory was created.
      expect(existsSync(join(dir, 'data'))).toBe(false)
    })
  }

  it('an unknown command exits 2', async () => {
    const { code, stderr } = await runCliToExit(['fly'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/unknown command "fly"/)
  })
})

describe('meridian relay: lifecycle', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops on ${signal} with exit 0 and keeps acknowledged data`, async () => {
      const dir = await tempDir()
      const relay = await startRelayProcess(['--region', 'eu', '--port', '0', '--data', dir])
      cleanups.push(() => relay.kill('SIGKILL'))
      const client = await connectRawClient(relay.url, 'doc/signal')
      client.doc.getText('t').insert(0, 'persist me')
      const local = Y.decodeStateVector(Y.encodeStateVector(client.doc))
      await client.waitFor(() => covers(client.durable(), local), 'durable ack')
      const exit = await relay.kill(signal)
      expect(exit.code).toBe(0)

      const again = await startRelayProcess(['--region', 'eu', '--port', '0', '--data', dir])
      cleanups.push(() => again.kill('SIGKILL'))
      const reader = await connectRawClient(again.url, 'doc/signal')
      await reader.waitFor(() => reader.doc.getText('t').toString() === 'persist me', 'stored text')
      await reader.close()
      expect((await again.kill('SIGTERM')).code).toBe(0)
    })
  }

  it('flushes on SIGTERM what it applied but had not yet written', async () => {
    const dir = await tempDir()
    // A long group-commit window holds every write in memory until it ends: at
    // the signal, the edit is applied and fanned out but not on disk.
    const config = join(dir, 'window.json')
    await writeFile(config, JSON.stringify({ groupCommitWindowMs: 10_000 }))
    const args = ['--region', 'eu', '--port', '0', '--data', join(dir, 'data'), '--config', config]
    const relay = await startRelayProcess(args)
    cleanups.push(() => relay.kill('SIGKILL'))
    const writer = await connectRawClient(relay.url, 'doc/unflushed')
    const reader = await connectRawClient(relay.url, 'doc/unflushed')
    writer.doc.getText('t').insert(0, 'applied, not yet written')
    await reader.waitFor(() => reader.doc.getText('t').toString() === 'applied, not yet written', 'fan-out')
    expect(writer.durable().size).toBe(0)
    expect((await relay.kill('SIGTERM')).code).toBe(0)

    const again = await startRelayProcess(args)
    cleanups.push(() => again.kill('SIGKILL'))
    const after = await connectRawClient(again.url, 'doc/unflushed')
    await after.waitFor(() => after.doc.getText('t').toString() === 'applied, not yet written', 'stored text')
    await after.close()
  })
})
