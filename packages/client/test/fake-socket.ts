/**
 * A WebSocket stand-in the test drives by hand: it records what the provider
 * sends (decoded) and lets the test open it, deliver relay messages and close
 * it, so session and connection logic can run under fake timers.
 */
import { decodeClientMessage, type ClientMessage } from '@meridian/core'
import type { WebSocketConstructor, WebSocketEventLike, WebSocketLike } from '../src/socket.js'

type Listener = (event: WebSocketEventLike) => void

export class FakeSocket implements WebSocketLike {
  binaryType = 'blob'
  readyState = 0
  readonly sent: ClientMessage[] = []
  /** Code the provider closed it with, if it did. */
  closedWith: number | null = null
  private readonly listeners = new Map<string, Set<Listener>>()

  constructor(readonly url: string) {}

  send(data: Uint8Array): void {
    this.sent.push(decodeClientMessage(data))
  }

  close(code?: number): void {
    this.readyState = 3
    this.closedWith = code ?? 1000
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, (set = new Set()))
    set.add(listener)
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener)
  }

  /** Types of the messages sent so far. */
  get sentTypes(): ClientMessage['type'][] {
    return this.sent.map((m) => m.type)
  }

  open(): void {
    this.readyState = 1
    this.emit({ type: 'open' })
  }

  receive(message: Uint8Array): void {
    const copy = message.slice()
    this.emit({ type: 'message', data: copy.buffer })
  }

  /** The relay closes the connection. */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3
    this.emit({ type: 'close', code, reason })
  }

  private emit(event: WebSocketEventLike): void {
    for (const l of [...(this.listeners.get(event.type) ?? [])]) l(event)
  }
}

/** A constructor for the provider's WebSocketPolyfill option, and every socket it made. */
export const fakeSockets = (): { Impl: WebSocketConstructor; sockets: FakeSocket[] } => {
  const sockets: FakeSocket[] = []
  class Tracked extends FakeSocket {
    constructor(url: string) {
      super(url)
      sockets.push(this)
    }
  }
  return { Impl: Tracked, sockets }
}
