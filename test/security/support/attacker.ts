/**
 * A hostile (or merely curious) client on the `ws` library: sends whatever
 * frames a case wants and records everything the relay sent before closing.
 */
import WebSocket from 'ws'

export interface CloseInfo {
  code: number
  reason: string
  /** Messages the relay sent before the close. */
  received: number
}

export interface Attacker {
  ws: WebSocket
  received: Uint8Array[]
  opened: Promise<void>
  /** Resolves on the first message from the relay (the document is attached). */
  firstMessage: Promise<void>
  closed: Promise<CloseInfo>
  send(frame: Uint8Array | string): void
}

/** `path` is sent as given after the host (already percent-encoded). */
export const openAttacker = (url: string, path: string): Attacker => {
  const ws = new WebSocket(`${url}${path}`)
  ws.binaryType = 'nodebuffer'
  const received: Uint8Array[] = []
  // The relay closing the socket may surface as an 'error' on our side first
  // (e.g. while we are still writing); the close event carries what we test.
  ws.on('error', () => {})
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('close', (code) => reject(new Error(`closed (${code}) before open`)))
  })
  opened.catch(() => {})
  const firstMessage = new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve())
    ws.once('close', (code, reason) => reject(new Error(`closed (${code} ${reason.toString()}) before any message`)))
  })
  firstMessage.catch(() => {})
  ws.on('message', (data: Buffer) => received.push(new Uint8Array(data)))
  const closed = new Promise<CloseInfo>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), received: received.length })),
  )
  return {
    ws,
    received,
    opened,
    firstMessage,
    closed,
    send: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return
      if (typeof frame === 'string') ws.send(frame, { binary: false })
      else ws.send(frame, { binary: true })
    },
  }
}
