/** MessageSocket over the `ws` package. */
/* eslint-disable @typescript-eslint/no-explicit-any -- ws types its listeners with any[] */
import WebSocket from 'ws'
import { ABNORMAL_CLOSURE, type MessageSocket, type SocketConnector, type SocketEvents } from './socket.js'

type Listener = SocketEvents[keyof SocketEvents]

export class WsSocket implements MessageSocket {
  private readonly wrapped = new Map<Listener, (...args: any[]) => void>()

  constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer'
    // An error is always followed by 'close'; listening keeps it from being thrown.
    ws.on('error', () => {})
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
    let wrapped: (...args: any[]) => void
    if (event === 'message') {
      const l = listener as SocketEvents['message']
      wrapped = ((data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => l(toBytes(data), isBinary)) as (...args: any[]) => void
    } else if (event === 'close') {
      const l = listener as SocketEvents['close']
      wrapped = ((code: number, reason: Buffer) => l(code || ABNORMAL_CLOSURE, reason.toString())) as (...args: any[]) => void
    } else {
      wrapped = listener as (...args: any[]) => void
    }
    this.wrapped.set(listener, wrapped)
    this.ws.on(event, wrapped)
  }

  off<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void {
    const wrapped = this.wrapped.get(listener)
    if (!wrapped) return
    this.wrapped.delete(listener)
    this.ws.off(event, wrapped)
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
