/**
 * The floor: a `ws` server that forwards every binary message to the other
 * sockets of the same room (URL path) and does nothing else — no Yjs, no
 * storage, no sync replies. What a relay costs beyond this is its own work.
 */
import http from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import { announceListening, serve, serverHandlers } from '../proc/child-side.js'

const rooms = new Map<string, Set<WebSocket>>()
const server = http.createServer((_req, res) => res.writeHead(404).end())
const wss = new WebSocketServer({ server, perMessageDeflate: false })

wss.on('connection', (ws, req) => {
  const room = (req.url ?? '/').split('?')[0] ?? '/'
  let peers = rooms.get(room)
  if (!peers) rooms.set(room, (peers = new Set()))
  const members = peers
  members.add(ws)
  ws.on('message', (data, isBinary) => {
    for (const other of members) if (other !== ws && other.readyState === other.OPEN) other.send(data, { binary: isBinary })
  })
  ws.on('close', () => {
    members.delete(ws)
    if (members.size === 0) rooms.delete(room)
  })
  ws.on('error', () => ws.terminate())
})

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
const address = server.address()
serve(
  serverHandlers(async () => {
    for (const ws of wss.clients) ws.terminate()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }),
)
announceListening(typeof address === 'object' && address ? address.port : 0)
