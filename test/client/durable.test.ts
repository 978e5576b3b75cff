/**
 * whenDurable() and the 'durable' event mean "on a relay's disk": with the
 * relay's store held at a gate, nothing resolves; the moment it resolves, the
 * store holds the change. Inserts and deletion-only edits alike (the latter
 * proven by a durable barrier), including a deletion that reaches the relay
 * while an earlier write is still under way.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { Relay } from '@meridian/server'
import { decodeClientMessage, encodeSyncStep1, type ClientMessage } from '@meridian/core'
import { GatedStore } from '../support/gated-store.js'
import { Providers, docUntil, trackedWebSocket } from './support.js'

const relays: Relay[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const r of relays.splice(0)) await r.close()
  expect(unexpectedErrors).toEqual([])
})

const start = async (): Promise<{ relay: Relay; store: GatedStore }> => {
  const store = new GatedStore()
  const relay = await new Relay({ region: 'eu', logLevel: 'silent' }, { store }).start()
  relays.push(relay)
  return { relay, store }
}

/** What the store holds when `promise` resolves, read at that moment. */
const storedWhenResolved = (promise: Promise<void>, read: () => Promise<string | null>): Promise<string | null> => promise.then(read)

/** Resolves with the next message of `type` the relay sends on `socket`. */
const nextMessage = (socket: WebSocket, type: string): Promise<void> =>
  new Promise((resolve) => {
    const onMessage = (data: Buffer): void => {
      if (decodeClientMessage(new Uint8Array(data)).type !== type) return
      socket.off('message', onMessage)
      resolve()
    }
    socket.on('message', onMessage)
  })

/**
 * Resolves once the relay has handled everything sent on `socket` so far and
 * what it sent while doing so has arrived: two sync round trips on the
 * provider's own socket (the relay answers messages in order; the second
 * covers anything it sent later in the turn of the first).
 */
const settle = async (socket: WebSocket): Promise<void> => {
  for (let i = 0; i < 2; i++) {
    const reply = nextMessage(socket, 'sync-step2')
    socket.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    await reply
  }
}

/** Records the type of every message the provider sends on `socket`. */
const recordSent = (socket: WebSocket): ClientMessage['type'][] => {
  const sent: ClientMessage['type'][] = []
  const send = socket.send.bind(socket)
  socket.send = ((data: Uint8Array, ...rest: unknown[]) => {
    sent.push(decodeClientMessage(new Uint8Array(data)).type)
    return (send as (...a: unknown[]) => void)(data, ...rest)
  }) as typeof socket.send
  return sent
}

describe('durable acknowledgements', () => {
  it('whenDurable waits for the relay to store an insert, and never resolves before', async () => {
    const { relay, store } = await start()
    const regions = [{ region: 'eu', url: relay.url }]
    const doc = new Y.Doc()
    const provider = providers.create(doc, 'notes/durable', { regions })
    const watcher = providers.create(new Y.Doc(), 'notes/durable', { regions })
    await Promise.all([provider.whenSynced(), watcher.whenSynced()])
    await provider.whenDurable()

    store.holdAppends()
    const appendStarted = store.nextAppend()
    const flips: boolean[] = []
    provider.on('durable', (d) => flips.push(d))
    doc.getText('t').insert(0, 'kept')
    expect(provider.durable).toBe(false)
    let resolved = false
    const durable = storedWhenResolved(
      provider.whenDurable().then(() => void (resolved = true)),
      async () => (await store.stored('notes/durable'))?.getText('t').toString() ?? null,
    )
    await appendStarted
    // The relay applied and fanned out the edit (the watcher has it) while its write is held.
    await docUntil(watcher.doc, () => watcher.doc.getText('t').toString() === 'kept', 'fan-out to the watcher')
    await watcher.whenDurable()
    expect(resolved).toBe(false)
    expect(provider.durable).toBe(false)
    expect(flips).toEqual([false])

    store.releaseAppends()
    expect(await durable).toBe('kept')
    expect(provider.durable).toBe(true)
    expect(flips).toEqual([false, true])
  })

  it('a deletion-only edit is saved only once the relay stored it', async () => {
    const { relay, store } = await start()
    const doc = new Y.Doc()
    const { Impl, sockets } = trackedWebSocket()
    const provider = providers.create(doc, 'notes/delete', { regions: [{ region: 'eu', url: relay.url }], WebSocketPolyfill: Impl })
    await provider.whenSynced()
    doc.getText('t').insert(0, 'abcdef')
    await provider.whenDurable()

    store.holdAppends()
    const appendStarted = store.nextAppend()
    const [socket] = [...sockets]
    const sent = recordSent(socket!)
    const svBefore = Y.encodeStateVector(doc)
    doc.getText('t').delete(1, 3)
    // A deletion does not move the state vector: a state-vector-only check would call this saved.
    expect(Y.encodeStateVector(doc)).toEqual(svBefore)
    expect(sent).toEqual(['sync-update', 'durable-barrier'])
    expect(provider.durable).toBe(false)
    let resolved = false
    const durable = storedWhenResolved(
      provider.whenDurable().then(() => void (resolved = true)),
      async () => (await store.stored('notes/delete'))?.getText('t').toString() ?? null,
    )
    await appendStarted
    // The relay has the deletion and the barrier, and whatever it answered has arrived.
    await settle(socket!)
    expect(resolved).toBe(false)
    expect(provider.durable).toBe(false)

    store.releaseAppends()
    expect(await durable).toBe('aef')
  })

  it('the ack of a write already under way is not taken for a deletion that came after it', async () => {
    const { relay, store } = await start()
    const doc = new Y.Doc()
    const { Impl, sockets } = trackedWebSocket()
    const provider = providers.create(doc, 'notes/window', { regions: [{ region: 'eu', url: relay.url }], WebSocketPolyfill: Impl })
    await provider.whenSynced()
    const t = doc.getText('t')
    t.insert(0, 'abcdef')
    await provider.whenDurable()
    const [socket] = [...sockets]

    store.holdAppends()
    const firstWrite = store.nextAppend()
    t.insert(6, 'X')
    await firstWrite
    // The deletion reaches the relay while the insert's write is held; it goes into the next write.
    t.delete(1, 3)
    let resolved = false
    const durable = storedWhenResolved(
      provider.whenDurable().then(() => void (resolved = true)),
      async () => (await store.stored('notes/window'))?.getText('t').toString() ?? null,
    )
    await settle(socket!)

    // Let the insert's write finish and hold the deletion's.
    const insertAck = nextMessage(socket!, 'durable-ack')
    const secondWrite = store.nextAppend()
    store.releaseAppends()
    store.holdAppends()
    await insertAck
    await secondWrite
    await settle(socket!)
    expect(await store.stored('notes/window').then((d) => d?.getText('t').toString())).toBe('abcdefX')
    expect(resolved).toBe(false)
    expect(provider.durable).toBe(false)

    store.releaseAppends()
    expect(await durable).toBe('aefX')
    expect(provider.durable).toBe(true)
  })

  it('a new provider on a document with content is saved once a relay confirms it holds all of it', async () => {
    const { relay } = await start()
    const regions = [{ region: 'eu', url: relay.url }]
    const doc = new Y.Doc()
    const first = providers.create(doc, 'notes/again', { regions })
    await first.whenSynced()
    doc.getMap('m').set('k', 1)
    doc.getText('t').insert(0, 'xyz')
    doc.getText('t').delete(0, 1)
    await first.whenDurable()
    first.destroy()
    const second = providers.create(doc, 'notes/again', { regions })
    expect(second.durable).toBe(false)
    await second.whenSynced()
    await second.whenDurable()
    expect(second.durable).toBe(true)
  })
})
