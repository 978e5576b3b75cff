/**
 * Awareness ownership must not punish honest clients. A stock y-websocket
 * WebsocketProvider re-broadcasts every awareness change it applies,
 * including other clients' (its 'update' handler does not filter by origin),
 * so each presence it learns is echoed back to the relay unchanged: same
 * client id, same clock, same state. That echo changes nothing and is not a
 * spoof; only a set or removal that would take effect is.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { encodeAwareness, encodeAwarenessUpdate } from '@meridian/core'
import { Relay } from '@meridian/server'
import { connectRawClient } from '../support/raw-client.js'
import { waitForDoc, waitForEvent } from '../support/wait.js'
import { awarenessSeenBy } from './corpus/awareness.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const startRelay = async (): Promise<Relay> => {
  const relay = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
  cleanups.push(() => relay.close())
  return relay
}

describe('awareness echoes', () => {
  it('an unchanged echo of another client’s presence does not close the echoing connection', async () => {
    const relay = await startRelay()
    const a = await connectRawClient(relay.url, 'echo/raw')
    const b = await connectRawClient(relay.url, 'echo/raw')
    cleanups.push(() => a.close(), () => b.close())
    const alice = { clientId: a.doc.clientID, clock: 1, state: JSON.stringify({ user: 'alice' }) }
    a.ws.send(encodeAwareness(encodeAwarenessUpdate([alice])))
    await withDeadline(b.waitFor(() => awarenessSeenBy(b).get(alice.clientId)?.clock === 1, 'alice presence'), DEADLINE_MS, 'b to see alice')
    // Exactly what y-websocket sends after applying alice's entry.
    b.ws.send(encodeAwareness(encodeAwarenessUpdate([alice])))
    // An edit after the echo on the same socket: once a has it, the echo was handled.
    b.doc.getText('t').insert(0, 'after the echo')
    const outcome = await withDeadline(
      Promise.race([
        waitForDoc(a.doc, () => a.doc.getText('t').toString() === 'after the echo').then(() => 'edit arrived'),
        b.closed.then((c) => `b closed with ${c.code} (${c.reason})`),
      ]),
      DEADLINE_MS,
      'the edit after the echo, or a close of b',
    )
    expect(outcome).toBe('edit arrived')
    expect(b.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('two stock y-websocket providers share presence without being closed', async () => {
    const relay = await startRelay()
    const closes: (number | undefined)[] = []
    const provider = (): WebsocketProvider => {
      const p = new WebsocketProvider(relay.url, 'echo/stock', new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true })
      p.on('connection-close', (event) => closes.push(event?.code))
      cleanups.push(() => p.destroy())
      return p
    }
    const a = provider()
    const b = provider()
    await withDeadline(Promise.all([waitForEvent(a, 'sync', (s: unknown) => s === true), waitForEvent(b, 'sync', (s: unknown) => s === true)]), DEADLINE_MS, 'both to sync')
    const seen = waitForEvent(b.awareness, 'change', () => b.awareness.getStates().get(a.awareness.clientID)?.user === 'ada')
    a.awareness.setLocalStateField('user', 'ada')
    await withDeadline(seen, DEADLINE_MS, 'b to see ada')
    // b echoed ada's state when it applied it; an edit from b after that
    // reaches a only after any close of b's first socket was delivered to b.
    b.doc.getText('t').insert(0, 'from b')
    await withDeadline(waitForDoc(a.doc, () => a.doc.getText('t').toString() === 'from b'), DEADLINE_MS, 'b’s edit')
    expect(closes, 'connection closes seen by the providers (4010 = AwarenessSpoof)').toEqual([])
  })
})
