/**
 * Dead connections are noticed without waiting for TCP: an upgrade that never
 * completes hits the connect timeout, and a relay that stops answering hits
 * the heartbeat. Both count as failures and lead to a retry.
 */
import { afterEach, describe, expect, it } from 'vitest'
import net from 'node:net'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { Providers, nextEvent } from './support.js'

const servers: { close(cb: () => void): void }[] = []
const sockets = new Set<net.Socket>()
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const s of sockets) s.destroy()
  sockets.clear()
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()))
  expect(unexpectedErrors).toEqual([])
})

const listen = async (server: net.Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  const a = server.address()
  return typeof a === 'object' && a ? a.port : 0
}

describe('liveness', () => {
  it('gives up on an upgrade that never completes (connect timeout)', async () => {
    // Accepts TCP, never answers the HTTP upgrade.
    const server = net.createServer((socket) => sockets.add(socket))
    const port = await listen(server)
    const provider = providers.create(new Y.Doc(), 'notes/stuck', { regions: [{ region: 'eu', url: `ws://127.0.0.1:${port}` }], connectTimeoutMs: 150 })
    const [close] = await nextEvent(provider, 'connection-close')
    expect(close).toMatchObject({ region: 'eu', code: 4900, reason: 'connect timeout' })
    // And it tries again.
    await nextEvent(provider, 'status', (e) => e.status === 'connecting')
  })

  it('closes a connection whose relay stopped answering (heartbeat)', async () => {
    // Completes the WebSocket handshake, then never sends anything.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    servers.push({
      close: (cb) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => cb())
      },
    })
    wss.on('connection', (ws) => ws.on('error', () => {}))
    const address = wss.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const provider = providers.create(new Y.Doc(), 'notes/silent', { regions: [{ region: 'eu', url: `ws://127.0.0.1:${port}` }], heartbeatMs: 100 })
    const started = Date.now()
    const [close] = await nextEvent(provider, 'connection-close')
    expect(close).toMatchObject({ region: 'eu', code: 4901 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
  })
})
