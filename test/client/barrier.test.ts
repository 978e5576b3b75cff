/**
 * The relay's side of durable barriers (types 104/105): a barrier is answered
 * only once everything sent before it is on the relay's disk, never while the
 * write is held at a gate or after it failed, never to a connection that did
 * not say hello (stock y-websocket clients), and never to a read-only
 * connection whose writes were dropped. Too many waiting barriers close the
 * connection.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { Relay, signToken } from '@meridian/server'
import {
  ClientFeature,
  MERIDIAN_CLIENT_PROTOCOL_VERSION,
  decodeClientMessage,
  encodeDurableBarrier,
  encodeMeridianHello,
  encodeSyncStep1,
  encodeSyncUpdate,
  type ClientMessage,
} from '@meridian/core'
import { MAX_WAITING_BARRIERS } from '../../packages/server/src/client-endpoint/client-connection.js'
import { GatedStore } from '../support/gated-store.js'

const relays: Relay[] = []
const stores: GatedStore[] = []
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  // A relay closes only after its writes finish, and a held one would never.
  for (const s of stores.splice(0)) s.releaseAppends()
  for (const r of relays.splice(0)) await r.close()
})

const start = async (options: { authSecret?: string } = {}): Promise<{ relay: Relay; store: GatedStore }> => {
  const store = new GatedStore()
  stores.push(store)
  const relay = await new Relay({ region: 'eu', logLevel: 'silent', ...options }, { store }).start()
  relays.push(relay)
  return { relay, store }
}

interface Wire {
  messages: ClientMessage[]
  send(bytes: Uint8Array): void
  /** Resolves with the first message (seen already or later) that passes `test`. */
  next(test: (m: ClientMessage) => boolean, what: string): Promise<ClientMessage>
  /** Resolves once the relay has handled everything sent so far and anything it sent right after has arrived. */
  settled(): Promise<void>
  closed: Promise<number>
}

const connect = async (relay: Relay, doc: string, options: { hello: boolean; token?: string }): Promise<Wire> => {
  const query = options.token ? `?token=${encodeURIComponent(options.token)}` : ''
  const ws = new WebSocket(`${relay.url}/${encodeURIComponent(doc)}${query}`)
  sockets.push(ws)
  const messages: ClientMessage[] = []
  const listeners = new Set<() => void>()
  ws.on('message', (data: Buffer) => {
    messages.push(decodeClientMessage(new Uint8Array(data)))
    for (const l of [...listeners]) l()
  })
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)))
  })
  const next = (test: (m: ClientMessage) => boolean, what: string, from = 0): Promise<ClientMessage> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = messages.slice(from).find(test)
        if (found) {
          listeners.delete(check)
          resolve(found)
        } else if (ws.readyState === WebSocket.CLOSED) {
          listeners.delete(check)
          reject(new Error(`closed while waiting for ${what}`))
        }
      }
      listeners.add(check)
      check()
    })
  const send = (bytes: Uint8Array): void => ws.send(bytes)
  // Each relay reply to a sync-step1 comes after whatever the relay sent while
  // handling earlier messages; two in a row also cover an answer it queued
  // for later in the same turn.
  const roundTrip = async (): Promise<void> => {
    const from = messages.length
    send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    await next((m) => m.type === 'sync-step2', 'a sync-step2', from)
  }
  const settled = async (): Promise<void> => {
    await roundTrip()
    await roundTrip()
  }
  if (options.hello) send(encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck))
  return { messages, send, next, settled, closed }
}

const answered = (wire: Wire, id: number): boolean => wire.messages.some((m) => m.type === 'barrier-durable' && m.id === id)
const answer = (wire: Wire, id: number): Promise<ClientMessage> => wire.next((m) => m.type === 'barrier-durable' && m.id === id, `barrier-durable ${id}`)

/** A document with text, and the update that deletes part of it (no insert). */
const textAndDeletion = (): { content: Uint8Array; deletion: Uint8Array } => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'abcdef')
  const content = Y.encodeStateAsUpdate(doc)
  const before = Y.encodeStateVector(doc)
  doc.getText('t').delete(1, 3)
  expect(Y.encodeStateVector(doc)).toEqual(before)
  return { content, deletion: Y.encodeStateAsUpdate(doc, before) }
}

const storedText = async (store: GatedStore, doc: string): Promise<string | null> => (await store.stored(doc))?.getText('t').toString() ?? null

describe('durable barriers at the relay', () => {
  it('answers a barrier only once the deletion sent before it is stored', async () => {
    const { relay, store } = await start()
    const wire = await connect(relay, 'notes/barrier', { hello: true })
    const { content, deletion } = textAndDeletion()
    wire.send(encodeSyncUpdate(content))
    wire.send(encodeDurableBarrier(1))
    await answer(wire, 1)
    expect(await storedText(store, 'notes/barrier')).toBe('abcdef')

    store.holdAppends()
    const appendStarted = store.nextAppend()
    wire.send(encodeSyncUpdate(deletion))
    wire.send(encodeDurableBarrier(2))
    await appendStarted
    await wire.settled()
    expect(answered(wire, 2)).toBe(false)
    expect(await storedText(store, 'notes/barrier')).toBe('abcdef')

    store.releaseAppends()
    const stored = answer(wire, 2).then(() => storedText(store, 'notes/barrier'))
    expect(await stored).toBe('aef')
  })

  it('never answers a barrier whose write failed; the relay closes with 4011', async () => {
    const { relay, store } = await start()
    const wire = await connect(relay, 'notes/broken', { hello: true })
    const { content, deletion } = textAndDeletion()
    wire.send(encodeSyncUpdate(content))
    wire.send(encodeDurableBarrier(1))
    await answer(wire, 1)

    store.failWrites()
    wire.send(encodeSyncUpdate(deletion))
    wire.send(encodeDurableBarrier(2))
    expect(await wire.closed).toBe(4011)
    expect(answered(wire, 2)).toBe(false)
    expect(await storedText(store, 'notes/broken')).toBe('abcdef')
  })

  it('sends nothing to a connection that did not say hello, as stock y-websocket clients do not', async () => {
    const { relay } = await start()
    const wire = await connect(relay, 'notes/stock', { hello: false })
    wire.send(encodeSyncUpdate(textAndDeletion().content))
    wire.send(encodeDurableBarrier(1))
    await wire.settled()
    expect(wire.messages.filter((m) => m.type === 'barrier-durable')).toEqual([])
    // The same connection opting in later is answered from then on.
    wire.send(encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, 0))
    wire.send(encodeDurableBarrier(2))
    await answer(wire, 2)
    expect(answered(wire, 1)).toBe(false)
  })

  it('answers a read-only connection only while none of its writes was dropped', async () => {
    const secret = 'barrier-test-secret'
    const { relay } = await start({ authSecret: secret })
    const token = await signToken({ secret, docs: ['notes/**'], access: 'read' })
    const reader = await connect(relay, 'notes/read', { hello: true, token })
    reader.send(encodeDurableBarrier(1))
    await answer(reader, 1)
    reader.send(encodeSyncUpdate(textAndDeletion().deletion))
    reader.send(encodeDurableBarrier(2))
    await reader.settled()
    expect(answered(reader, 2)).toBe(false)
  })

  it(`closes a connection with more than ${MAX_WAITING_BARRIERS} barriers waiting (4007)`, async () => {
    const { relay, store } = await start()
    const wire = await connect(relay, 'notes/flood', { hello: true })
    store.holdAppends()
    const appendStarted = store.nextAppend()
    wire.send(encodeSyncUpdate(textAndDeletion().content))
    await appendStarted
    for (let id = 1; id <= MAX_WAITING_BARRIERS; id++) wire.send(encodeDurableBarrier(id))
    await wire.settled()
    wire.send(encodeDurableBarrier(MAX_WAITING_BARRIERS + 1))
    expect(await wire.closed).toBe(4007)
    expect(wire.messages.some((m) => m.type === 'barrier-durable')).toBe(false)
  })
})
