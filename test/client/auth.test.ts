/**
 * Tokens: a token function is asked again after a 4005 refusal (so an expired
 * token is replaced); a static token that is refused, or one that does not
 * cover the document (4006), ends in a reported error instead of a retry loop.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Relay, signToken } from '@meridian/server'
import { Providers } from './support.js'

const secret = 'test-secret-for-client-auth'
const relays: Relay[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const r of relays.splice(0)) await r.close()
  expect(unexpectedErrors).toEqual([])
})

const start = async (): Promise<Relay> => {
  const relay = await new Relay({ region: 'eu', logLevel: 'silent', authSecret: secret }).start()
  relays.push(relay)
  return relay
}

describe('tokens', () => {
  it('asks the token function again after the relay refuses a token', async () => {
    const relay = await start()
    let calls = 0
    const closes: number[] = []
    const provider = providers.create(new Y.Doc(), 'notes/auth', {
      regions: [{ region: 'eu', url: relay.url }],
      token: async () => (++calls === 1 ? 'expired-or-garbage' : signToken({ secret, docs: ['notes/**'], access: 'write' })),
    })
    provider.on('connection-close', ({ code }) => closes.push(code))
    await provider.whenSynced()
    expect(calls).toBe(2)
    expect(closes).toEqual([4005])
  })

  it('gives up on a refused static token, and on a token that does not cover the document', async () => {
    const relay = await start()
    const regions = [{ region: 'eu', url: relay.url }]
    const errors: string[] = []
    const unauthorized = providers.create(new Y.Doc(), 'notes/a', { regions, token: 'garbage', onError: (e) => errors.push((e as { code?: string }).code ?? '') })
    await expect(unauthorized.whenSynced()).rejects.toMatchObject({ code: 'unauthorized', closeCode: 4005 })
    const other = await signToken({ secret, docs: ['other/**'], access: 'write' })
    const forbidden = providers.create(new Y.Doc(), 'notes/b', { regions, token: other, onError: (e) => errors.push((e as { code?: string }).code ?? '') })
    await expect(forbidden.whenSynced()).rejects.toMatchObject({ code: 'forbidden', closeCode: 4006 })
    expect(errors).toEqual(['unauthorized', 'forbidden'])
    expect(unauthorized.status).toBe('offline')
  })
})
