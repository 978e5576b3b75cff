/**
 * Relay-to-relay authentication (`peerSecret`): the peer endpoint refuses
 * any hello that does not prove the secret — missing, wrong, stale, replayed,
 * reflected, or not a hello at all — with PeerRejected (4012), and two relays
 * sharing the secret link up and replicate.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createHmac, randomBytes } from 'node:crypto'
import WebSocket, { WebSocketServer } from 'ws'
import { CloseCode as C, PEER_PROTOCOL_VERSION, decodeHello, encodeAck, encodeBatch, encodeBatchPayload, encodeDelta, encodeHello, helloSigningBytes, type HelloFields } from '@meridian/core'
import { ConfigError, signToken } from '@meridian/server'
import { PEER_PATH, Relay, wsConnector, type RelayOptionsInput, type SocketConnector } from '@meridian/server'
import { checkHello, createHello } from '../../packages/server/src/mesh/peer-auth.js'
import { allConnected } from '../support/cluster.js'
import { connectRawClient } from '../support/raw-client.js'
import { waitForDoc } from '../support/wait.js'
import { connectWithToken } from './support/access-client.js'
import { sampleUpdate } from './support/hostile-suite.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'

const SECRET = 'peer-secret-for-tests-0123'
const WRONG = 'not-the-peer-secret-4567'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const startRelay = async (region: string, extra: Partial<RelayOptionsInput> = {}, connector?: SocketConnector): Promise<Relay> => {
  const relay = await new Relay({ region, logLevel: 'silent', peerSecret: SECRET, peerBackoffBaseMs: 50, peerBackoffMaxMs: 200, ...extra }, connector ? { connector } : {}).start()
  cleanups.push(() => relay.close())
  return relay
}

interface PeerProbe {
  ws: WebSocket
  /** The first message from the relay (its answering hello). */
  answer: Promise<Uint8Array>
  closed: Promise<{ code: number; reason: string }>
}

/** Opens the peer endpoint by hand and sends `first` once open. */
const probe = (relay: Relay, first: Uint8Array | string): PeerProbe => {
  const ws = new WebSocket(`${relay.url}${PEER_PATH}`)
  ws.on('error', () => {})
  cleanups.push(() => ws.terminate())
  ws.once('open', () => ws.send(first, { binary: typeof first !== 'string' }))
  const answer = new Promise<Uint8Array>((resolve, reject) => {
    ws.once('message', (data: Buffer) => resolve(new Uint8Array(data)))
    ws.once('close', (code) => reject(new Error(`closed (${code}) without answering`)))
  })
  answer.catch(() => {})
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  return { ws, answer, closed }
}

const identity = (relay: Relay, region = 'us') => ({ relayId: `${region}-probe`, region, policyHash: relay.options.policy.hash })

/** A hello with chosen fields, MACed as peer-auth.ts does (so only the field under test is wrong). */
const signedHello = (fields: HelloFields, secret: string): Uint8Array =>
  encodeHello({ ...fields, auth: new Uint8Array(createHmac('sha256', secret).update(helloSigningBytes(fields)).digest()) })

const expectRefused = async (p: PeerProbe, reason?: RegExp): Promise<void> => {
  const close = await withDeadline(p.closed, DEADLINE_MS, 'the peer refusal')
  expect(close.code, close.reason).toBe(C.PeerRejected)
  if (reason) expect(close.reason).toMatch(reason)
}

describe('peer endpoint with a peer secret', () => {
  it('refuses a hello without a secret', async () => {
    const relay = await startRelay('eu')
    await expectRefused(probe(relay, encodeHello(createHello(identity(relay), undefined))), /secret/)
  })

  it('refuses a hello made with the wrong secret', async () => {
    const relay = await startRelay('eu')
    await expectRefused(probe(relay, encodeHello(createHello(identity(relay), WRONG))), /secret/)
  })

  it('refuses a correctly signed hello older than the allowed clock skew', async () => {
    const relay = await startRelay('eu')
    const fields: HelloFields = { version: PEER_PROTOCOL_VERSION, ...identity(relay), time: Date.now() - 10 * 60_000, nonce: new Uint8Array(randomBytes(16)) }
    await expectRefused(probe(relay, signedHello(fields, SECRET)), /skew/)
  })

  it("refuses a correctly signed hello claiming the relay's own region", async () => {
    const relay = await startRelay('eu')
    await expectRefused(probe(relay, encodeHello(createHello(identity(relay, 'eu'), SECRET))), /own region/)
  })

  it('refuses a text frame, garbage, and a peer message that is not a hello', async () => {
    const relay = await startRelay('eu')
    await expectRefused(probe(relay, 'hello'))
    await expectRefused(probe(relay, new Uint8Array([0xff, 0xff, 0xff])))
    await expectRefused(probe(relay, encodeAck(1)))
  })

  it('accepts the right secret and answers with a hello bound to our nonce', async () => {
    const relay = await startRelay('eu')
    const hello = createHello(identity(relay), SECRET)
    const p = probe(relay, encodeHello(hello))
    const answer = decodeHello(await withDeadline(p.answer, DEADLINE_MS, 'the answering hello'))
    expect(answer.region).toBe('eu')
    expect(answer.relayId).toBe(relay.relayId)
    expect(checkHello(answer, SECRET, hello.nonce), 'answer verifies against our nonce').toBeNull()
    expect(checkHello(answer, SECRET, new Uint8Array(16)), 'answer does not verify for another handshake').not.toBeNull()
    expect(p.ws.readyState).toBe(WebSocket.OPEN)
    expect(relay.mesh!.sessions().map((s) => s.peerRegion)).toContain('us')
  })

  it('refuses a recorded hello replayed on a new connection, and keeps the original link', async () => {
    const relay = await startRelay('eu')
    const recorded = encodeHello(createHello(identity(relay), SECRET))
    const original = probe(relay, recorded)
    await withDeadline(original.answer, DEADLINE_MS, 'the original handshake')
    const replay = probe(relay, recorded)
    const first = await withDeadline(Promise.race([replay.closed, original.closed.then((c) => ({ ...c, original: true }))]), DEADLINE_MS, 'a close')
    expect(first, 'the replay must be refused; the relay instead accepted it and dropped the original link').not.toHaveProperty('original')
    expect(first.code).toBe(C.PeerRejected)
    expect(original.ws.readyState).toBe(WebSocket.OPEN)
  })
})

describe('two relays', () => {
  it('with the same secret link up and replicate an edit', async () => {
    const eu = await startRelay('eu')
    const us = await startRelay('us')
    eu.addPeer({ region: 'us', url: us.url })
    us.addPeer({ region: 'eu', url: eu.url })
    await withDeadline(allConnected([eu, us]), DEADLINE_MS, 'both links up')
    const a = await connectRawClient(eu.url, 'peer/doc')
    const b = await connectRawClient(us.url, 'peer/doc')
    cleanups.push(() => a.close(), () => b.close())
    a.doc.getText('t').insert(0, 'across regions')
    await withDeadline(waitForDoc(b.doc, () => b.doc.getText('t').toString() === 'across regions'), DEADLINE_MS, 'the edit to cross')
  })

  it('with different secrets never link: the dialer is refused with 4012', async () => {
    const closes: number[] = []
    let notify: () => void = () => {}
    const refused = new Promise<void>((resolve) => (notify = resolve))
    // Watches the dialer's own sockets: the refusal is the event to wait on.
    const watching: SocketConnector = {
      connect: (url, options) => {
        const socket = wsConnector.connect(url, options)
        socket.on('close', (code) => {
          closes.push(code)
          if (code === C.PeerRejected) notify()
        })
        return socket
      },
    }
    const us = await startRelay('us')
    const eu = await startRelay('eu', { peerSecret: WRONG }, watching)
    eu.addPeer({ region: 'us', url: us.url })
    await withDeadline(refused, DEADLINE_MS, 'the refusal')
    expect(eu.mesh!.sessions()).toHaveLength(0)
    expect(us.mesh!.sessions()).toHaveLength(0)
    expect(us.audit.recent().some((e) => e.kind === 'peer-rejected')).toBe(true)
  })

  it('a dialer refuses its own hello reflected back by a fake peer', async () => {
    const fake = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    cleanups.push(() => new Promise<void>((resolve) => fake.close(() => resolve())))
    await new Promise<void>((resolve) => fake.once('listening', () => resolve()))
    const dialerClose = new Promise<number>((resolve) =>
      fake.once('connection', (ws) => {
        ws.once('message', (data: Buffer) => ws.send(data))
        ws.once('close', (code) => resolve(code))
      }),
    )
    const eu = await startRelay('eu')
    const port = (fake.address() as { port: number }).port
    eu.addPeer({ region: 'us', url: `ws://127.0.0.1:${port}` })
    expect(await withDeadline(dialerClose, DEADLINE_MS, 'the dialer to refuse the reflection')).toBe(C.PeerRejected)
    expect(eu.mesh!.sessions()).toHaveLength(0)
  })
})

describe('peer endpoint without a peer secret', () => {
  // With client auth on, the peer endpoint is a second door to every
  // document: a peer session may write (delta, sync-step2) and read
  // (sync-step1) any document. Leaving it open to anyone who can reach the
  // port would make the client tokens pointless.
  it('with client auth on, a stranger cannot write through the peer endpoint', async () => {
    let relay: Relay
    try {
      relay = await new Relay({ region: 'eu', logLevel: 'silent', authSecret: 'client-auth-secret-0123' }).start()
    } catch (err) {
      // Refusing this configuration at start is an acceptable fix too.
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as Error).message).toMatch(/peerSecret/)
      return
    }
    cleanups.push(() => relay.close())
    const reader = await connectWithToken(relay.url, 'private/doc', await signToken({ secret: 'client-auth-secret-0123', docs: ['private/**'], access: 'read' }))
    cleanups.push(() => reader.close())
    const stranger = probe(relay, encodeHello(createHello(identity(relay), undefined)))
    stranger.answer.then(
      () => {
        const delta = encodeDelta('private/doc', sampleUpdate((d) => d.getText('t').insert(0, 'written by a stranger')), 'us', Date.now(), 1)
        stranger.ws.send(encodeBatch(false, encodeBatchPayload([delta])))
      },
      () => {},
    )
    const outcome = await withDeadline(
      Promise.race([
        stranger.closed.then((c) => `refused with ${c.code}`),
        reader.waitFor(() => reader.doc.getText('t').toString().includes('stranger'), 'the stranger write').then(() => 'the stranger wrote the document'),
      ]),
      DEADLINE_MS,
      'a refusal or the write',
    )
    expect(outcome).toBe(`refused with ${C.PeerRejected}`)
  })

  // The dialing side of the same door: a relay that would dial peers
  // unauthenticated while its clients need tokens is refused before it
  // opens anything, naming the missing field.
  it('with client auth on, configuring peers without a peer secret is refused at start', () => {
    const start = (): Relay => new Relay({ region: 'eu', logLevel: 'silent', authSecret: 'client-auth-secret-0123', peers: [{ region: 'us', url: 'ws://127.0.0.1:9' }] })
    expect(start).toThrow(ConfigError)
    expect(start).toThrow(/peerSecret: required when authSecret is set/)
  })
})
