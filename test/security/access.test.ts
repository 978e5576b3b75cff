/**
 * Client access with `authSecret` set: every bad token is refused with its
 * named close code before any document state is sent; a read token sees the
 * document and presence but its writes never take effect anywhere; a write
 * token syncs fully.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode as C, decodeAwarenessUpdate } from '@meridian/core'
import { Relay, signToken, type RelayOptionsInput } from '@meridian/server'
import { makeTempDir } from '../support/temp-dir.js'
import { openAttacker } from './support/attacker.js'
import { connectWithToken, docPath, type TokenClient } from './support/access-client.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'
import { craftToken, nowSeconds } from './support/jwt.js'
import { clientsOf, isSettled, loadStoredDoc } from './support/stored.js'

const SECRET = 'access-test-secret-0123456789'
const OTHER_SECRET = 'someone-elses-secret-9876543210'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const startRelay = async (extra: Partial<RelayOptionsInput> = {}): Promise<{ relay: Relay; options: RelayOptionsInput }> => {
  const dir = await makeTempDir('meridian-access-')
  cleanups.push(dir.remove)
  const options: RelayOptionsInput = { region: 'eu', logLevel: 'silent', dataDir: dir.path, durability: 'buffered', authSecret: SECRET, ...extra }
  const relay = await new Relay(options).start()
  cleanups.push(() => relay.close())
  return { relay, options }
}

const client = async (relay: Relay, doc: string, token: string): Promise<TokenClient> => {
  const c = await connectWithToken(relay.url, doc, token)
  cleanups.push(() => c.close())
  await c.waitFor(() => c.messages.some((m) => m.type === 'sync-step2'), 'the initial sync')
  return c
}

const presenceSeen = (c: TokenClient, clientId: number): unknown => {
  let state: unknown
  for (const m of c.messages) {
    if (m.type !== 'awareness') continue
    for (const e of decodeAwarenessUpdate(m.update)) if (e.clientId === clientId) state = JSON.parse(e.state)
  }
  return state
}

const DOC = 'team/notes'
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ docs: ['team/**'], access: 'write', iat: nowSeconds(), exp: nowSeconds() + 600, ...over })

describe('refused before any document state is sent', () => {
  const refusals: [string, () => Promise<string | undefined>, number, RegExp][] = [
    ['no token', async () => undefined, C.Unauthorized, /missing/],
    ['empty token', async () => '', C.Unauthorized, /missing/],
    ['token signed with another secret', () => signToken({ secret: OTHER_SECRET, docs: ['team/**'], access: 'write' }), C.Unauthorized, /invalid/],
    ['expired token', async () => craftToken({ secret: SECRET, payload: claims({ exp: nowSeconds() - 120 }) }), C.Unauthorized, /expired/],
    ['not a JWT', async () => 'not-a-jwt', C.Unauthorized, /invalid/],
    ['three empty segments', async () => '..', C.Unauthorized, /invalid/],
    ['alg none, no signature', async () => craftToken({ header: { alg: 'none' }, secret: SECRET, payload: claims(), signature: '' }), C.Unauthorized, /invalid/],
    ['HS512 with the right secret', async () => craftToken({ header: { alg: 'HS512' }, hash: 'sha512', secret: SECRET, payload: claims() }), C.Unauthorized, /invalid/],
    [
      'payload swapped under a valid signature',
      async () => {
        const [h, , s] = (await signToken({ secret: SECRET, docs: ['other/**'], access: 'read' })).split('.')
        return `${h}.${Buffer.from(JSON.stringify(claims({ docs: ['**'] }))).toString('base64url')}.${s}`
      },
      C.Unauthorized,
      /invalid/,
    ],
    ['no exp claim', async () => craftToken({ secret: SECRET, payload: claims({ exp: undefined }) }), C.Unauthorized, /invalid/],
    ['not valid yet (nbf in an hour)', async () => craftToken({ secret: SECRET, payload: claims({ nbf: nowSeconds() + 3600 }) }), C.Unauthorized, /invalid/],
    ['docs claim not a list', async () => craftToken({ secret: SECRET, payload: claims({ docs: 'team/**' }) }), C.Unauthorized, /invalid/],
    ['docs claim empty', async () => craftToken({ secret: SECRET, payload: claims({ docs: [] }) }), C.Unauthorized, /invalid/],
    ['access claim "admin"', async () => craftToken({ secret: SECRET, payload: claims({ access: 'admin' }) }), C.Unauthorized, /invalid/],
    ['token for other documents', () => signToken({ secret: SECRET, docs: ['other/**'], access: 'write' }), C.Forbidden, /does not cover/],
    ['read token for other documents', () => signToken({ secret: SECRET, docs: ['team/notes/*'], access: 'read' }), C.Forbidden, /does not cover/],
    ['glob that matches nothing valid', async () => craftToken({ secret: SECRET, payload: claims({ docs: ['a/***'] }) }), C.Forbidden, /does not cover/],
  ]

  for (const [name, token, code, reason] of refusals) {
    it(`${name} → ${code}`, async () => {
      const { relay } = await startRelay()
      const attacker = openAttacker(relay.url, docPath(DOC, await token()))
      const close = await withDeadline(attacker.closed, DEADLINE_MS, 'the refusal')
      expect(close.code, close.reason).toBe(code)
      expect(close.reason).toMatch(reason)
      expect(close.received, 'messages received before the close').toBe(0)
      expect(relay.docs.peek(DOC), 'document loaded for a refused client').toBeUndefined()
    })
  }
})

describe('read and write tokens', () => {
  it('a read token gets the document and presence, may publish presence, and never writes', async () => {
    const { relay, options } = await startRelay()
    const writeToken = await signToken({ secret: SECRET, docs: ['team/**'], access: 'write' })
    const readToken = await signToken({ secret: SECRET, docs: [DOC], access: 'read' })
    const w1 = await client(relay, DOC, writeToken)
    const w2 = await client(relay, DOC, writeToken)
    w1.doc.getText('t').insert(0, 'written by w1')
    await w2.waitFor(() => w2.doc.getText('t').toString() === 'written by w1', 'w2 to see w1')
    w1.publishPresence({ user: 'w1' }, 1)
    await w2.waitFor(() => presenceSeen(w2, w1.doc.clientID) !== undefined, 'w2 to see w1 presence')

    const reader = await client(relay, DOC, readToken)
    await reader.waitFor(() => reader.doc.getText('t').toString() === 'written by w1', 'the reader to get the document')
    await reader.waitFor(() => presenceSeen(reader, w1.doc.clientID) !== undefined, 'the reader to get presence')

    // The reader edits: its client sends a sync-update (and it answered the
    // relay's sync-step1 with a sync-step2 already). Both must be dropped.
    reader.doc.getText('t').insert(0, 'READER WAS HERE ')
    reader.doc.getMap('m').set('reader', true)
    // Presence after the edit: once w1 sees it, the relay has handled the edit.
    reader.publishPresence({ user: 'reader' }, 1)
    await w1.waitFor(() => (presenceSeen(w1, reader.doc.clientID) as { user?: string } | undefined)?.user === 'reader', 'w1 to see the reader presence')
    // A writer's edit after that: fan-out is per turn, so had the reader's
    // edit been applied, w2 would get it no later than this one.
    w1.doc.getText('t').insert(w1.doc.getText('t').length, '; then w1 again')
    await w2.waitFor(() => w2.doc.getText('t').toString().endsWith('then w1 again'), 'w2 to see the later edit')

    expect(reader.ws.readyState, 'read-only writes are dropped, not punished').toBe(reader.ws.OPEN)
    for (const c of [w1, w2]) {
      expect(c.doc.getText('t').toString()).toBe('written by w1; then w1 again')
      expect(c.doc.getMap('m').has('reader')).toBe(false)
    }
    const live = relay.docs.peek(DOC)!
    expect(clientsOf(live.doc).has(reader.doc.clientID), 'relay applied the reader edit').toBe(false)

    await relay.flush()
    await Promise.all([w1.close(), w2.close(), reader.close()])
    await relay.close()
    const restarted = await new Relay(options).start()
    cleanups.push(() => restarted.close())
    const stored = await loadStoredDoc(restarted.store, DOC)
    expect(stored).not.toBeNull()
    expect(isSettled(stored!)).toBe(true)
    expect(clientsOf(stored!).has(reader.doc.clientID), 'the reader edit was persisted').toBe(false)
    expect(stored!.getText('t').toString()).toBe('written by w1; then w1 again')
  })

  it('a write token syncs fully, and readers receive the writes live', async () => {
    const { relay } = await startRelay()
    const writeToken = await signToken({ secret: SECRET, docs: ['team/*'], access: 'write', ttlSeconds: 60 })
    const readToken = await signToken({ secret: SECRET, docs: ['**'], access: 'read' })
    const a = await client(relay, DOC, writeToken)
    const b = await client(relay, DOC, writeToken)
    const reader = await client(relay, DOC, readToken)
    a.doc.getText('t').insert(0, 'from a')
    await b.waitFor(() => b.doc.getText('t').toString() === 'from a', 'b to see a')
    b.doc.getMap('m').set('from', 'b')
    await a.waitFor(() => a.doc.getMap('m').get('from') === 'b', 'a to see b')
    await reader.waitFor(() => reader.doc.getMap('m').get('from') === 'b' && reader.doc.getText('t').toString() === 'from a', 'the reader to see both')
  })
})
