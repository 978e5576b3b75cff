/**
 * Client auth as a stock y-websocket WebsocketProvider (the real package,
 * unchanged) sees it. A stock client can carry a token only in the URL, and
 * only through its `params` option (y-websocket appends `?token=…`), so this
 * is the path every off-the-shelf Yjs app takes. The raw-protocol clients of
 * access.test.ts prove the same rules message by message; this file proves
 * they hold for the real provider's behaviour: its automatic sync-step2
 * answer, per-transaction updates, awareness echoes and reconnect loop.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { CloseCode } from '@meridian/core'
import { Relay, signToken, type RelayOptionsInput } from '@meridian/server'
import { makeTempDir } from '../support/temp-dir.js'
import { waitForDoc, waitForEvent } from '../support/wait.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'
import { clientsOf, isSettled, loadStoredDoc } from './support/stored.js'

const SECRET = 'stock-client-token-secret-0123456789'
const OTHER_SECRET = 'not-the-relays-secret-9876543210'
const DOC = 'team/board'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const startRelay = async (): Promise<{ relay: Relay; options: RelayOptionsInput }> => {
  const dir = await makeTempDir('meridian-stock-token-')
  cleanups.push(dir.remove)
  const options: RelayOptionsInput = { region: 'eu', logLevel: 'silent', dataDir: dir.path, durability: 'buffered', authSecret: SECRET }
  const relay = await new Relay(options).start()
  cleanups.push(() => relay.close())
  return { relay, options }
}

/** What the provider's sockets saw on the wire, below y-websocket. */
interface Wire {
  /** Messages the relay sent, over every socket this provider opened. */
  received: number
}

interface Stock {
  provider: WebsocketProvider
  doc: Y.Doc
  wire: Wire
}

/**
 * The provider gets `ws` as its WebSocket, as in stock-client-interop, but
 * a subclass that counts incoming messages: y-websocket swallows messages
 * it cannot use, so "received no document content" must be checked on the
 * wire, not only in the Y.Doc.
 */
const countingWebSocket = (wire: Wire): new (address: string, protocols?: string | string[]) => WebSocket =>
  class CountingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      this.on('message', () => wire.received++)
    }
  }

const stockProvider = (relay: Relay, token: string | undefined): Stock => {
  const wire: Wire = { received: 0 }
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(relay.url, DOC, doc, {
    WebSocketPolyfill: countingWebSocket(wire) as never,
    disableBc: true,
    params: token === undefined ? {} : { token },
  })
  // destroy() clears the provider's intervals; the doc's destroy clears its awareness' interval.
  cleanups.push(() => {
    provider.destroy()
    doc.destroy()
  })
  return { provider, doc, wire }
}

const synced = (s: Stock): Promise<unknown> => withDeadline(waitForEvent(s.provider, 'sync', (state: unknown) => state === true), DEADLINE_MS, 'the provider to sync')

const until = (doc: Y.Doc, predicate: () => boolean, what: string): Promise<void> => withDeadline(waitForDoc(doc, predicate), DEADLINE_MS, what)

const readOnlyDrops = async (relay: Relay): Promise<number> => {
  const metric = relay.metrics.registry.getSingleMetric('meridian_read_only_writes_dropped_total')
  const value = (await metric?.get())?.values[0]?.value
  if (value === undefined) throw new Error('meridian_read_only_writes_dropped_total is not exported')
  return value
}

const writeToken = (): Promise<string> => signToken({ secret: SECRET, docs: ['team/**'], access: 'write' })

describe('stock y-websocket provider with params: { token }', () => {
  it('with a write token syncs both ways, and the token travels as ?token=', async () => {
    const { relay } = await startRelay()
    const a = stockProvider(relay, await writeToken())
    const b = stockProvider(relay, await writeToken())
    // Otherwise a relay that ignored the query string would pass this test.
    expect(a.provider.url).toMatch(/\?token=[\w-]+\.[\w-]+\.[\w-]+$/)
    await Promise.all([synced(a), synced(b)])
    a.doc.getText('t').insert(0, 'from a')
    await until(b.doc, () => b.doc.getText('t').toString() === 'from a', 'b to see a')
    b.doc.getMap('m').set('from', 'b')
    await until(a.doc, () => a.doc.getMap('m').get('from') === 'b', 'a to see b')
    expect(clientsOf(relay.docs.peek(DOC)!.doc)).toEqual(new Set([a.doc.clientID, b.doc.clientID]))
  })

  it('with a read token receives the document live, but its edits reach no client and no storage', async () => {
    const { relay, options } = await startRelay()
    const w1 = stockProvider(relay, await writeToken())
    const w2 = stockProvider(relay, await writeToken())
    await Promise.all([synced(w1), synced(w2)])
    w1.doc.getText('t').insert(0, 'written by w1')
    await until(w2.doc, () => w2.doc.getText('t').toString() === 'written by w1', 'w2 to see w1')

    const reader = stockProvider(relay, await signToken({ secret: SECRET, docs: [DOC], access: 'read' }))
    await synced(reader)
    expect(reader.doc.getText('t').toString(), 'the reader gets the stored state on connect').toBe('written by w1')
    w2.doc.getMap('m').set('live', 1)
    await until(reader.doc, () => reader.doc.getMap('m').get('live') === 1, 'the reader to get a live edit')

    // Two transactions, so the provider sends two sync-updates.
    reader.doc.getText('t').insert(0, 'READER WAS HERE ')
    reader.doc.getMap('m').set('reader', true)
    // y-websocket sends presence on the same socket after those updates, and
    // the relay handles one socket's messages in order: once w1 sees the
    // presence, the relay has handled (and had to drop) both edits.
    const presence = waitForEvent(w1.provider.awareness, 'change', () => w1.provider.awareness.getStates().get(reader.doc.clientID)?.user === 'reader')
    reader.provider.awareness.setLocalStateField('user', 'reader')
    await withDeadline(presence, DEADLINE_MS, 'w1 to see the reader presence')
    // Fan-out is batched per event-loop turn; a writer edit made now is
    // handled in a later turn, so had the reader's edits been applied, w2
    // would have them no later than this one.
    w1.doc.getText('t').insert(w1.doc.getText('t').length, '; then w1')
    await until(w2.doc, () => w2.doc.getText('t').toString().endsWith('; then w1'), 'w2 to see the later edit')

    for (const w of [w1, w2]) {
      expect(w.doc.getText('t').toString()).toBe('written by w1; then w1')
      expect(w.doc.getMap('m').has('reader')).toBe(false)
    }
    expect(clientsOf(relay.docs.peek(DOC)!.doc).has(reader.doc.clientID), 'the relay applied a reader edit').toBe(false)
    // The provider's sync-step2 answer to the relay's sync-step1, then the
    // two edits: each is one dropped message, and nothing else is counted.
    expect(await readOnlyDrops(relay)).toBe(3)
    expect(reader.provider.wsconnected, 'dropped, not punished: the reader stays connected').toBe(true)

    await relay.flush()
    for (const s of [w1, w2, reader]) s.provider.destroy()
    await relay.close()
    const restarted = await new Relay(options).start()
    cleanups.push(() => restarted.close())
    const stored = await loadStoredDoc(restarted.store, DOC)
    expect(stored).not.toBeNull()
    expect(isSettled(stored!)).toBe(true)
    expect(clientsOf(stored!).has(reader.doc.clientID), 'a reader edit was persisted').toBe(false)
    expect(stored!.getText('t').toString()).toBe('written by w1; then w1')
    stored!.destroy()
  })

  const refusals: [string, () => Promise<string | undefined>, RegExp][] = [
    ['no token', async () => undefined, /token-missing/],
    ['a token signed with another secret', () => signToken({ secret: OTHER_SECRET, docs: ['team/**'], access: 'write' }), /token-invalid/],
  ]
  for (const [name, token, reason] of refusals) {
    it(`with ${name} is refused with 4005 and receives nothing of the document`, async () => {
      const { relay } = await startRelay()
      // A document with content, held live by a writer: a leak would show.
      const writer = stockProvider(relay, await writeToken())
      await synced(writer)
      writer.doc.getText('t').insert(0, 'confidential')
      const live = relay.docs.peek(DOC)!
      await until(live.doc, () => live.doc.getText('t').toString() === 'confidential', 'the relay to hold the content')

      const stranger = stockProvider(relay, await token())
      const sync = { seen: false }
      stranger.provider.on('sync', (state: boolean) => (sync.seen ||= state))
      const refused = new Promise<{ code: number; reason: string } | null>((resolve) =>
        stranger.provider.once('connection-close', (event) => resolve(event && { code: event.code, reason: event.reason })),
      )
      const close = await withDeadline(refused, DEADLINE_MS, 'the refusal')
      // Stop the provider's reconnect loop now: it schedules its next
      // attempt right after this event, and destroy() turns that into a no-op.
      stranger.provider.destroy()
      expect(close?.code, close?.reason).toBe(CloseCode.Unauthorized)
      expect(close?.reason).toMatch(reason)
      expect(stranger.wire.received, 'messages the relay sent before refusing').toBe(0)
      expect(sync.seen, 'the provider reported itself synced').toBe(false)
      expect(stranger.doc.getText('t').toString()).toBe('')
      expect(stranger.doc.store.clients.size, 'structs the refused client received').toBe(0)
      expect(stranger.provider.awareness.getStates().has(writer.doc.clientID), 'presence the refused client received').toBe(false)
    })
  }
})
