import { once } from 'node:events'
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { WsSocket, wsConnector } from '../../src/transport/ws-socket.js'
import { runSocketConformance } from './conformance.js'

runSocketConformance('WebSocket', async () => {
  const server = http.createServer()
  const wss = new WebSocketServer({ server })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = once(wss, 'connection')
  const client = wsConnector.connect(`ws://127.0.0.1:${port}/`, { maxMessageBytes: 1 << 20 })
  const [ws] = (await accepted) as [import('ws').WebSocket]
  return {
    client,
    server: new WsSocket(ws),
    teardown: async () => {
      client.terminate()
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
})
