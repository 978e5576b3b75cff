/**
 * `@y/websocket-server` 0.1.1, the reference server's successor package (the
 * last release on yjs 13; 0.1.5 needs the yjs 14 pre-release): its own
 * `setupWSConnection` with its y-leveldb persistence, enabled by
 * YPERSISTENCE=<dir> as in its bin. Only the HTTP wrapper is ours.
 */
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { announceListening, jobParams, serve, serverHandlers } from '../proc/child-side.js'

interface Params {
  dataDir: string
}
interface LeveldbPersistenceLike {
  tr: Promise<unknown>
  destroy(): Promise<unknown>
}
interface Utils {
  setupWSConnection(conn: unknown, req: http.IncomingMessage): void
  getPersistence(): { provider: LeveldbPersistenceLike } | null
}

const p = jobParams<Params>()
// The module reads the variable when it is first loaded.
process.env.YPERSISTENCE = p.dataDir
const utils = (await import('@y/websocket-server/utils')) as unknown as Utils

const server = http.createServer((_req, res) => res.writeHead(200).end('okay'))
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', (ws, req: http.IncomingMessage) => utils.setupWSConnection(ws, req))
server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))

const shutdown = async (): Promise<void> => {
  for (const ws of wss.clients) ws.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const provider = utils.getPersistence()?.provider
  if (provider) {
    await provider.tr
    await provider.destroy()
  }
}
serve(serverHandlers(shutdown))
const address = server.address()
announceListening(typeof address === 'object' && address ? address.port : 0)
