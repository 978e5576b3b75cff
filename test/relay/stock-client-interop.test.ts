/**
 * A stock y-websocket WebsocketProvider (the real package, unchanged) syncs,
 * edits and sees awareness through a Meridian relay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { Relay } from '@meridian/server'
import { waitForDoc, waitForEvent } from '../support/wait.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const startRelay = async (): Promise<Relay> => {
  const relay = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
  cleanups.push(() => relay.close())
  return relay
}

const stockProvider = (relay: Relay, docName: string, doc = new Y.Doc()): WebsocketProvider => {
  const provider = new WebsocketProvider(relay.url, docName, doc, { WebSocketPolyfill: WebSocket as never, disableBc: true })
  cleanups.push(() => provider.destroy())
  return provider
}

describe('stock y-websocket client', () => {
  it('syncs edits both ways between two providers', async () => {
    const relay = await startRelay()
    const a = stockProvider(relay, 'notes/1')
    const b = stockProvider(relay, 'notes/1')
    await Promise.all([waitForEvent(a, 'sync', (s: unknown) => s === true), waitForEvent(b, 'sync', (s: unknown) => s === true)])
    a.doc.getText('t').insert(0, 'hello from a')
    await waitForDoc(b.doc, () => b.doc.getText('t').toString() === 'hello from a')
    b.doc.getMap('m').set('k', 42)
    await waitForDoc(a.doc, () => a.doc.getMap('m').get('k') === 42)
    expect(a.doc.getText('t').toString()).toBe(b.doc.getText('t').toString())
  })

  it('receives the stored document on connect', async () => {
    const relay = await startRelay()
    const a = stockProvider(relay, 'notes/2')
    await waitForEvent(a, 'sync', (s: unknown) => s === true)
    a.doc.getArray('list').push([1, 2, 3])
    a.destroy()
    const b = stockProvider(relay, 'notes/2')
    await waitForEvent(b, 'sync', (s: unknown) => s === true)
    await waitForDoc(b.doc, () => b.doc.getArray('list').length === 3)
    expect(b.doc.getArray('list').toArray()).toEqual([1, 2, 3])
  })

  it('propagates awareness and removes it when a client leaves', async () => {
    const relay = await startRelay()
    const a = stockProvider(relay, 'notes/3')
    const b = stockProvider(relay, 'notes/3')
    await Promise.all([waitForEvent(a, 'sync', (s: unknown) => s === true), waitForEvent(b, 'sync', (s: unknown) => s === true)])
    const seen = waitForEvent(b.awareness, 'change', () => b.awareness.getStates().get(a.awareness.clientID)?.user === 'ada')
    a.awareness.setLocalStateField('user', 'ada')
    await seen
    const gone = waitForEvent(b.awareness, 'change', () => !b.awareness.getStates().has(a.awareness.clientID))
    a.destroy()
    await gone
    expect(b.awareness.getStates().has(a.awareness.clientID)).toBe(false)
  })
})
