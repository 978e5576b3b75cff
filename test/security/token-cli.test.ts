/**
 * `meridian token`: what it prints is accepted by a relay with the same
 * secret (for the documents and access it names, and no others), and bad
 * flags exit 2 naming the flag, printing no token. Runs the built CLI
 * (`npx tsc -b` first).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode as C } from '@meridian/core'
import { Relay, verifyToken } from '@meridian/server'
import { runCliToExit } from '../support/relay-process.js'
import { openAttacker } from './support/attacker.js'
import { connectWithToken, docPath, type TokenClient } from './support/access-client.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'

const SECRET = 'cli-token-secret-0123456789'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const cliToken = async (args: string[]): Promise<string> => {
  const { code, stdout, stderr } = await runCliToExit(['token', ...args])
  expect(code, stderr).toBe(0)
  const lines = stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0]!
}

describe('meridian token', () => {
  it('prints a token the relay accepts for its documents and access, and refuses elsewhere', async () => {
    const writeToken = await cliToken(['--secret', SECRET, '--doc', 'cli/**', '--doc', 'shared', '--access', 'write', '--ttl', '120'])
    const readToken = await cliToken(['--secret', SECRET, '--doc', 'cli/**', '--access', 'read'])
    const claims = await verifyToken(writeToken, SECRET)
    expect(claims.docs).toEqual(['cli/**', 'shared'])
    expect(claims.access).toBe('write')
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(60)
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(121)

    const relay = await new Relay({ region: 'eu', logLevel: 'silent', authSecret: SECRET }).start()
    cleanups.push(() => relay.close())
    const open = async (doc: string, token: string): Promise<TokenClient> => {
      const c = await connectWithToken(relay.url, doc, token)
      cleanups.push(() => c.close())
      return c
    }
    const writer = await open('cli/a', writeToken)
    const reader = await open('cli/a', readToken)
    writer.doc.getText('t').insert(0, 'via a CLI token')
    await reader.waitFor(() => reader.doc.getText('t').toString() === 'via a CLI token', 'the reader to get the write')

    const outside = openAttacker(relay.url, docPath('elsewhere/x', writeToken))
    const close = await withDeadline(outside.closed, DEADLINE_MS, 'the refusal')
    expect(close.code).toBe(C.Forbidden)
    expect(close.received).toBe(0)

    const wrongRelay = await new Relay({ region: 'eu', logLevel: 'silent', authSecret: 'a-different-secret-42' }).start()
    cleanups.push(() => wrongRelay.close())
    const forged = openAttacker(wrongRelay.url, docPath('cli/a', writeToken))
    expect((await withDeadline(forged.closed, DEADLINE_MS, 'the refusal')).code).toBe(C.Unauthorized)
  })

  const bad: [string, string[], RegExp][] = [
    ['no secret', ['--doc', 'a/**', '--access', 'read'], /--secret/],
    ['secret shorter than 8 characters', ['--secret', 'short', '--doc', 'a/**', '--access', 'read'], /--secret/],
    ['no --doc', ['--secret', SECRET, '--access', 'read'], /--doc/],
    ['invalid glob', ['--secret', SECRET, '--doc', 'a/***', '--access', 'read'], /--doc/],
    ['--access admin', ['--secret', SECRET, '--doc', 'a/**', '--access', 'admin'], /--access/],
    ['--ttl not a number', ['--secret', SECRET, '--doc', 'a/**', '--access', 'read', '--ttl', '1h'], /--ttl/],
    ['unknown flag', ['--secret', SECRET, '--doc', 'a/**', '--access', 'read', '--admin'], /admin/],
  ]
  // Concurrent: each case is a Node process start (~0.7 s of CPU) and they share nothing.
  describe.concurrent('bad flags', () => {
    for (const [name, args, pattern] of bad) {
      it(`exits 2 on ${name}`, async ({ expect }) => {
        const { code, stdout, stderr } = await runCliToExit(['token', ...args])
        expect(code, stderr).toBe(2)
        expect(stderr).toMatch(pattern)
        expect(stdout.trim(), 'no token printed').toBe('')
      })
    }
  })
})
