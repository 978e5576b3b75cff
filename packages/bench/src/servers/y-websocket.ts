/**
 * The reference server: y-websocket 2.1.0's own `bin/utils.cjs` connection
 * handler with its y-leveldb persistence (enabled, as in its bin/server.cjs,
 * by YPERSISTENCE=<dir>). Only the HTTP wrapper is ours, so the port can be 0
 * and the process can answer heap and shutdown requests.
 */
import http from 'node:http'
import { createRequire } from 'node:module'
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
// utils.cjs reads the variable when it is first required.
process.env.YPERSISTENCE = p.dataDir
const require = createRequire(import.meta.url)
const utils = require('y-websocket/bin/utils') as Utils

const server = http.createServer((_req, res) => res.writeHead(200).end('okay'))
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', (ws, req: http.IncomingMessage) => utils.setupWSConnection(ws, req))
server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))

const shutdown = async (): Promise<void> => {
  for (const ws of wss.clients) ws.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  // y-leveldb serialises its writes on one promise chain; wait for it, then close.
  const provider = utils.getPersistence()?.provider
  if (provider) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    await provider.tr
    await provider.destroy()
  }
}
serve(serverHandlers(shutdown))
const address = server.address()
announceListening(typeof address === 'object' && address ? address.port : 0)
