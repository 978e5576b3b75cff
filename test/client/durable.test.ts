/**
 * whenDurable() and the 'durable' event mean "on a relay's disk": with the
 * relay's store held at a gate, nothing resolves; the moment it resolves, the
 * store holds the change. Inserts and deletion-only edits alike.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { Relay } from '@meridian/server'
import { decodeClientMessage } from '@meridian/core'
import { GatedStore } from './gated-store.js'
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

describe('durable acknowledgements', () => {
  it('whenDurable waits for the relay to store an insert, and never resolves before', async () => {
    const { relay, store } = await start()
    const regions = [{ region: 'eu', url: relay.url }]
    const doc = new Y.Doc()
    const provider = providers.create(doc, 'notes/durable', { regions })
    const watcher = providers.create(new Y.Doc(), 'notes/durable', { regions })
    await Promise.all([provider.whenSynced(), watcher.whenSynced()])
    await provider.whenDurable()

    store.hold()
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

    store.openGate()
    expect(await durable).toBe('kept')
    expect(provider.durable).toBe(true)
    expect(flips).toEqual([false, true])
  })

  it('a deletion-only edit is saved only once the relay stored it', async () => {
    const { relay, store } = await start()
    const doc = new Y.Doc()
    const { Impl, sockets } = trackedWebSocket()
    // The quiet-spell fallback is for deletions that cause no write; keep it out of this test.
    const provider = providers.create(doc, 'notes/delete', { regions: [{ region: 'eu', url: relay.url }], WebSocketPolyfill: Impl, deleteProofQuietMs: 60_000 })
    await provider.whenSynced()
    doc.getText('t').insert(0, 'abcdef')
    await provider.whenDurable()

    store.hold()
    const appendStarted = store.nextAppend()
    const [socket] = [...sockets]
    const probeReply = nextMessage(socket!, 'sync-step2')
    const svBefore = Y.encodeStateVector(doc)
    doc.getText('t').delete(1, 3)
    // A deletion does not move the state vector: a state-vector-only check would call this saved.
    expect(Y.encodeStateVector(doc)).toEqual(svBefore)
    expect(provider.durable).toBe(false)
    let resolved = false
    const durable = storedWhenResolved(
      provider.whenDurable().then(() => void (resolved = true)),
      async () => (await store.stored('notes/delete'))?.getText('t').toString() ?? null,
    )
    await appendStarted
    // The relay answered the provider's probe: it has applied the deletion, and any ack sent so far has arrived.
    await probeReply
    await new Promise((resolve) => setImmediate(resolve))
    expect(resolved).toBe(false)
    expect(provider.durable).toBe(false)

    store.openGate()
    expect(await durable).toBe('aef')
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
    const second = providers.create(doc, 'notes/again', { regions, deleteProofQuietMs: 100 })
    expect(second.durable).toBe(false)
    await second.whenSynced()
    await second.whenDurable()
    expect(second.durable).toBe(true)
  })
})
