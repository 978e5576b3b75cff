/**
 * The provider against a hand-driven socket under fake timers: when durable
 * barriers go out and what their answers prove, the heartbeat's timing, and
 * the jittered retry after a rate-limit close.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { encodeBarrierDurable, encodeDurableAck, encodeSyncStep1, encodeSyncStep2 } from '@meridian/core'
import { MeridianProvider } from '../src/provider.js'
import type { MeridianProviderOptions } from '../src/options.js'
import { fakeSockets, type FakeSocket } from './fake-socket.js'

const providers: MeridianProvider[] = []
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  for (const p of providers.splice(0)) p.destroy()
  vi.useRealTimers()
})

const setup = async (options: Partial<MeridianProviderOptions> = {}, doc = new Y.Doc()) => {
  const { Impl, sockets } = fakeSockets()
  const errors: string[] = []
  const closes: number[] = []
  const provider = new MeridianProvider(doc, 'notes/fake', {
    regions: [{ region: 'eu', url: 'ws://eu.invalid' }],
    WebSocketPolyfill: Impl,
    persistence: false,
    measureRtt: false,
    onError: (err) => errors.push((err as { code?: string }).code ?? err.message),
    ...options,
  })
  providers.push(provider)
  provider.on('connection-close', ({ code }) => closes.push(code))
  await vi.advanceTimersByTimeAsync(0)
  return { provider, doc, sockets, errors, closes, socket: (): FakeSocket => sockets[sockets.length - 1]! }
}

/** The relay's side of the handshake: its sync-step1, and the sync-step2 answering ours. */
const relayHandshake = (socket: FakeSocket): void => {
  socket.receive(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
  socket.receive(encodeSyncStep2(Y.encodeStateAsUpdate(new Y.Doc())))
}

const barriers = (socket: FakeSocket): number[] => socket.sent.flatMap((m) => (m.type === 'durable-barrier' ? [m.id] : []))

describe('durable barriers', () => {
  it('sends one after a deletion-only change, and its answer proves the deletion', async () => {
    const { provider, doc, socket } = await setup()
    socket().open()
    relayHandshake(socket())
    const t = doc.getText('t')
    t.insert(0, 'abc')
    expect(barriers(socket())).toEqual([]) // an insert is proven by acks
    socket().receive(encodeDurableAck(Y.encodeStateVector(doc)))
    expect(provider.durable).toBe(true)

    t.delete(0, 1)
    expect(socket().sentTypes.slice(-2)).toEqual(['sync-update', 'durable-barrier'])
    expect(provider.durable).toBe(false)
    // A second deletion while the barrier is out waits for it: one barrier at a time.
    t.delete(0, 1)
    expect(barriers(socket())).toEqual([1])
    socket().receive(encodeBarrierDurable(1))
    expect(provider.durable).toBe(false)
    expect(barriers(socket())).toEqual([1, 2])
    socket().receive(encodeBarrierDurable(2))
    expect(provider.durable).toBe(true)
  })

  it('proves deletions made before connecting only after the sync-step2 that carries them', async () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'offline')
    doc.getText('t').delete(0, 3)
    const { provider, socket } = await setup({}, doc)
    socket().open()
    expect(barriers(socket())).toEqual([])
    socket().receive(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    expect(socket().sentTypes.slice(-2)).toEqual(['sync-step2', 'durable-barrier'])
    socket().receive(encodeDurableAck(Y.encodeStateVector(doc)))
    expect(provider.durable).toBe(false)
    socket().receive(encodeBarrierDurable(1))
    expect(provider.durable).toBe(true)
  })

  it('sends the barrier again on the next connection when the first was not answered', async () => {
    const { provider, doc, socket, sockets } = await setup({ backoff: { initialMs: 100, maxMs: 100 } })
    socket().open()
    relayHandshake(socket())
    doc.getText('t').insert(0, 'ab')
    socket().receive(encodeDurableAck(Y.encodeStateVector(doc)))
    doc.getText('t').delete(0, 1)
    expect(barriers(socket())).toEqual([1])
    socket().serverClose(1006)
    await vi.advanceTimersByTimeAsync(100)
    expect(sockets).toHaveLength(2)
    socket().open()
    expect(barriers(socket())).toEqual([])
    relayHandshake(socket())
    expect(barriers(socket())).toEqual([1])
    socket().receive(encodeBarrierDurable(1))
    expect(provider.durable).toBe(true)
  })

  it('treats an answer to a barrier it did not send as a bad relay message', async () => {
    const { provider, socket, errors } = await setup()
    socket().open()
    relayHandshake(socket())
    socket().receive(encodeBarrierDurable(7))
    expect(errors).toEqual(['bad-relay-message'])
    expect(socket().closedWith).toBe(4902)
    expect(provider.durable).toBe(true)
  })
})

describe('heartbeat', () => {
  it('asks for a reply after heartbeatMs of silence and gives up heartbeatMs later', async () => {
    const { socket, closes } = await setup({ heartbeatMs: 1_000 })
    socket().open()
    const step1s = (): number => socket().sentTypes.filter((t) => t === 'sync-step1').length
    expect(step1s()).toBe(1) // the initial sync
    await vi.advanceTimersByTimeAsync(600)
    socket().receive(encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))) // the silence starts over
    await vi.advanceTimersByTimeAsync(999)
    expect(step1s()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(step1s()).toBe(2)
    await vi.advanceTimersByTimeAsync(999)
    expect(closes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(closes).toEqual([4901])
  })

  it('keeps a connection that answers', async () => {
    const { socket, closes } = await setup({ heartbeatMs: 1_000 })
    socket().open()
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1_000)
      socket().receive(encodeSyncStep2(Y.encodeStateAsUpdate(new Y.Doc())))
    }
    expect(closes).toEqual([])
    expect(socket().closedWith).toBeNull()
  })
})

describe('rate limiting (4007)', () => {
  it.each([
    [0, 500],
    [0.5, 750],
  ])('retries after a jittered share of backoff.maxMs (random %s: %s ms)', async (random, delay) => {
    const { sockets, socket } = await setup({ backoff: { initialMs: 10, maxMs: 1_000 }, random: () => random })
    socket().open()
    socket().serverClose(4007, 'message rate limit exceeded')
    await vi.advanceTimersByTimeAsync(delay - 1)
    expect(sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sockets).toHaveLength(2)
  })
})
