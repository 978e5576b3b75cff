/**
 * Refused tokens and hostile client input, as a real relay counts them and
 * serves them on GET /metrics of its own port: auth failures by close-code
 * name (never by token error text), hostile-input closes by the code the
 * relay (or its `ws` layer, for oversized frames) closed with, and nothing
 * for a client that leaves normally.
 */
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode, encodeSyncStep1, encodeSyncUpdate } from '@meridian/core'
import { Relay, signToken } from '../../src/index.js'
import { parsePromText, samplesOf, valueOf, type Sample } from './prom-text.js'

const SECRET = 'metrics-test-secret'
const MAX_MESSAGE_BYTES = 64 * 1024
const RATE_BURST = 20

let relay: Relay | null = null
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  await relay?.close()
  relay = null
})

const startRelay = async (options: Record<string, unknown> = {}): Promise<Relay> => {
  relay = await new Relay({ region: 'eu', logLevel: 'silent', maxMessageBytes: MAX_MESSAGE_BYTES, rateLimitPerSecond: 1, rateLimitBurst: RATE_BURST, ...options }).start()
  return relay
}

const scrape = async (r: Relay): Promise<Sample[]> => {
  const res = await fetch(`http://127.0.0.1:${r.port}/metrics`)
  expect(res.status).toBe(200)
  return parsePromText(await res.text()).samples
}

const open = async (r: Relay, path: string): Promise<{ ws: WebSocket; closed: Promise<number> }> => {
  const ws = new WebSocket(`${r.url}${path}`)
  sockets.push(ws)
  ws.on('error', () => {})
  const closed = once(ws, 'close').then(([code]) => code as number)
  await once(ws, 'open')
  return { ws, closed }
}

/** Opens a connection, sends `frames` and resolves with the code the relay closed it with. */
const closeCodeAfter = async (r: Relay, path: string, frames: (Uint8Array | string)[]): Promise<number> => {
  const { ws, closed } = await open(r, path)
  for (const f of frames) ws.send(f)
  return closed
}

const hostile = (s: Sample[]) => samplesOf(s, 'meridian_hostile_input_closes_total')
const hostileTotal = (s: Sample[]) => hostile(s).reduce((sum, x) => sum + x.value, 0)

describe('client closes in the metrics of a real relay', () => {
  it('count refused tokens by close-code name: Unauthorized and Forbidden', async () => {
    const r = await startRelay({ authSecret: SECRET })
    const other = await signToken({ secret: SECRET, docs: ['other/**'], access: 'write' })
    const forged = await signToken({ secret: 'not-the-relay-secret', docs: ['**'], access: 'write' })
    const good = await signToken({ secret: SECRET, docs: ['notes/**'], access: 'write' })

    expect(await closeCodeAfter(r, '/notes/a', [])).toBe(CloseCode.Unauthorized)
    expect(await closeCodeAfter(r, `/notes/a?token=${forged}`, [])).toBe(CloseCode.Unauthorized)
    expect(await closeCodeAfter(r, '/notes/a?token=not.a.jwt', [])).toBe(CloseCode.Unauthorized)
    expect(await closeCodeAfter(r, `/notes/a?token=${other}`, [])).toBe(CloseCode.Forbidden)
    // A good token is no failure: it syncs and stays open.
    const ok = await open(r, `/notes/a?token=${good}`)
    ok.ws.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    await once(ok.ws, 'message')

    const s = await scrape(r)
    expect(samplesOf(s, 'meridian_auth_failures_total').map((x) => [x.labels.reason, x.value]).sort()).toEqual([
      ['Forbidden', 1],
      ['Unauthorized', 3],
    ])
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'Unauthorized' })).toBe(3)
    // Refused tokens are access control, not hostile input.
    expect(hostileTotal(s)).toBe(0)
  })

  it('count hostile input by the close code, including ws closing oversized frames with 1009, and nothing for a normal close', async () => {
    const r = await startRelay()
    // A client that syncs, edits and leaves normally.
    const honest = await open(r, '/shared/doc')
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    honest.ws.send(encodeSyncUpdate(Y.encodeStateAsUpdate(doc)))
    honest.ws.close(1000)
    expect(await honest.closed).toBe(1000)
    let s = await scrape(r)
    expect(hostileTotal(s)).toBe(0)
    expect(samplesOf(s, 'meridian_client_closes_total')).toEqual([])
    // Every hostile client code is exported from the start, at 0.
    expect(valueOf(s, 'meridian_hostile_input_closes_total', { source: 'client', code: 'MalformedMessage' })).toBe(0)

    expect(await closeCodeAfter(r, '/shared/doc', ['text is not the protocol'])).toBe(CloseCode.UnsupportedData)
    expect(await closeCodeAfter(r, '/shared/doc', [Uint8Array.of(99)])).toBe(CloseCode.MalformedMessage)
    expect(await closeCodeAfter(r, '/shared/doc', [encodeSyncUpdate(Uint8Array.of(7, 200, 1, 2, 3, 4))])).toBe(CloseCode.InvalidUpdate)
    expect(await closeCodeAfter(r, '/shared/doc', Array.from({ length: RATE_BURST + 5 }, () => Uint8Array.of(3)))).toBe(CloseCode.RateLimited)
    expect(await closeCodeAfter(r, '/shared/doc', [new Uint8Array(MAX_MESSAGE_BYTES + 1)])).toBe(1009)

    s = await scrape(r)
    const byCode = Object.fromEntries(hostile(s).filter((x) => x.value > 0).map((x) => [`${x.labels.source}/${x.labels.code}`, x.value]))
    expect(byCode).toEqual({
      'client/UnsupportedData': 1,
      'client/MalformedMessage': 1,
      'client/InvalidUpdate': 1,
      'client/RateLimited': 1,
      'client/MessageTooBig': 1,
    })
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'MessageTooBig' })).toBe(1)
    // The relay kept serving through all of it.
    expect((await fetch(`http://127.0.0.1:${r.port}/healthz`)).status).toBe(200)
  })
})
