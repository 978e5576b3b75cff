/** MessageSocket over the `ws` package. */
/* eslint-disable @typescript-eslint/no-explicit-any -- ws types its listeners with any[] */
import WebSocket from 'ws'
import { ABNORMAL_CLOSURE, type MessageSocket, type SocketConnector, type SocketEvents } from './socket.js'

/**
 * Listeners live in per-event arrays on the WsSocket, and `ws` gets one
 * shared, module-level function per event that finds them through a symbol
 * on the WebSocket: a relay holds one of these per client, so per-socket
 * closures and maps are avoided (see docs/decisions.md, memory per document).
 */
const kOwner = Symbol('meridian.wsSocket')
type Owned = WebSocket & { [kOwner]?: WsSocket }

function relayMessage(this: Owned, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const listeners = this[kOwner]?.listeners.message
  if (!listeners) return
  const bytes = toBytes(data)
  for (const l of [...listeners]) l(bytes, isBinary)
}

function relayClose(this: Owned, code: number, reason: Buffer): void {
  const listeners = this[kOwner]?.listeners.close
  if (!listeners) return
  const text = reason.toString()
  for (const l of [...listeners]) l(code || ABNORMAL_CLOSURE, text)
}

function relayOpen(this: Owned): void {
  const listeners = this[kOwner]?.listeners.open
  if (listeners) for (const l of [...listeners]) l()
}

// An error is always followed by 'close'; listening keeps it from being thrown.
const ignoreError = (): void => {}

const RELAYS: { [E in keyof SocketEvents]: (this: Owned, ...args: any[]) => void } = { message: relayMessage, close: relayClose, open: relayOpen }

export class WsSocket implements MessageSocket {
  /** Created per event on first use. */
  readonly listeners: { [E in keyof SocketEvents]?: SocketEvents[E][] } = {}

  constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer'
    ;(ws as Owned)[kOwner] = this
    ws.on('error', ignoreError)
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  send(data: Uint8Array): void {
    if (this.isOpen) this.ws.send(data)
  }

  close(code: number, reason = ''): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate()
    else this.ws.close(code, reason)
  }

  terminate(): void {
    this.ws.terminate()
  }

  on<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void {
    let list = this.listeners[event] as SocketEvents[E][] | undefined
    if (!list) {
      list = []
      ;(this.listeners as Record<string, unknown>)[event] = list
      this.ws.on(event, RELAYS[event])
    }
    list.push(listener)
  }

  off<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void {
    const list = this.listeners[event] as SocketEvents[E][] | undefined
    const at = list?.indexOf(listener) ?? -1
    if (!list || at < 0) return
    list.splice(at, 1)
    if (list.length === 0) {
      delete this.listeners[event]
      this.ws.off(event, RELAYS[event])
    }
  }
}

const toBytes = (data: Buffer | ArrayBuffer | Buffer[]): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

export const wsConnector: SocketConnector = {
  connect: (url, { maxMessageBytes }) =>
    new WsSocket(new WebSocket(url, { maxPayload: maxMessageBytes, perMessageDeflate: false, handshakeTimeout: 10_000 })),
}
