/**
 * An in-process link: two connected MessageSockets. Delivery goes through a
 * `deliver` function so a test or the simulator decides when (and whether)
 * each message arrives; by default it is the next macrotask, in order.
 */
import type { MessageSocket, SocketEvents } from './socket.js'
import { ABNORMAL_CLOSURE } from './socket.js'

/** Schedules `run` to happen; the simulator replaces this to inject faults. */
export type Deliver = (kind: 'open' | 'message' | 'close', run: () => void, bytes: number) => void

const defaultDeliver: Deliver = (_kind, run) => void setImmediate(run)

type Listeners = { [E in keyof SocketEvents]: Set<SocketEvents[E]> }

export class MemorySocket implements MessageSocket {
  peer: MemorySocket | null = null
  private state: 'connecting' | 'open' | 'closed' = 'connecting'
  private inFlight = 0
  private readonly listeners: Listeners = { open: new Set(), message: new Set(), close: new Set() }

  constructor(private readonly deliver: Deliver) {}

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /** Bytes sent and not yet delivered to the other end. */
  get bufferedAmount(): number {
    return this.inFlight
  }

  on<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void {
    this.listeners[event].add(listener)
  }

  off<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void {
    this.listeners[event].delete(listener)
  }

  send(data: Uint8Array): void {
    const peer = this.peer
    if (this.state !== 'open' || !peer) return
    const copy = data.slice()
    this.inFlight += copy.byteLength
    this.deliver('message', () => {
      this.inFlight -= copy.byteLength
      if (peer.state === 'open') for (const l of [...peer.listeners.message]) l(copy, true)
    }, copy.byteLength)
  }

  close(code: number, reason = ''): void {
    this.shutdown(code, reason)
  }

  terminate(): void {
    this.shutdown(ABNORMAL_CLOSURE, '')
  }

  private shutdown(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.emitClose(code, reason)
    const peer = this.peer
    if (peer && peer.state !== 'closed') {
      this.deliver('close', () => {
        if (peer.state === 'closed') return
        peer.state = 'closed'
        peer.emitClose(code, reason)
      }, 0)
    }
  }

  private emitClose(code: number, reason: string): void {
    for (const l of [...this.listeners.close]) l(code, reason)
  }

  /** Opens both ends (called by createMemoryLink). */
  open(): void {
    if (this.state !== 'connecting') return
    this.state = 'open'
    for (const l of [...this.listeners.open]) l()
  }
}

/**
 * A connected pair: `client` is the dialing end, `server` the accepting end.
 * `toServer` schedules what the client sends, `toClient` what the server
 * sends (and the client's open); a simulator gives each direction its own
 * faults.
 */
export const createMemoryLink = (
  toServer: Deliver = defaultDeliver,
  toClient: Deliver = toServer,
): { client: MemorySocket; server: MemorySocket } => {
  const client = new MemorySocket(toServer)
  const server = new MemorySocket(toClient)
  client.peer = server
  server.peer = client
  server.open()
  toClient('open', () => client.open(), 0)
  return { client, server }
}
