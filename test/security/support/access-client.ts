/**
 * Clients for the access tests: a token-carrying raw client (full sync
 * through test/support/raw-client's protocol handling is not reusable here
 * because it builds the URL without a query string).
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  decodeClientMessage,
  encodeAwareness,
  encodeAwarenessUpdate,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  type ClientMessage,
} from '@meridian/core'
import { DEADLINE_MS, withDeadline } from './deadline.js'

export interface TokenClient {
  doc: Y.Doc
  ws: WebSocket
  messages: ClientMessage[]
  closed: Promise<{ code: number; reason: string }>
  waitFor(predicate: () => boolean, what: string): Promise<void>
  publishPresence(state: unknown, clock: number): void
  close(): Promise<void>
}

export const docPath = (doc: string, token?: string): string =>
  `/${encodeURIComponent(doc)}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`

/** A y-websocket-speaking client that answers the relay's sync-step1 and sends its local edits. */
export const connectWithToken = async (url: string, doc: string, token: string): Promise<TokenClient> => {
  const ydoc = new Y.Doc()
  const ws = new WebSocket(`${url}${docPath(doc, token)}`)
  ws.binaryType = 'nodebuffer'
  ws.on('error', () => {})
  const messages: ClientMessage[] = []
  const waiters = new Set<() => void>()
  const notify = (): void => {
    for (const w of [...waiters]) w()
  }
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      notify()
    }),
  )
  ws.on('message', (data: Buffer) => {
    const msg = decodeClientMessage(new Uint8Array(data))
    messages.push(msg)
    if (msg.type === 'sync-step1') ws.send(encodeSyncStep2(Y.encodeStateAsUpdate(ydoc, msg.stateVector)))
    else if (msg.type === 'sync-step2' || msg.type === 'sync-update') Y.applyUpdate(ydoc, msg.update, 'remote')
    notify()
  })
  ydoc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote' && ws.readyState === WebSocket.OPEN) ws.send(encodeSyncUpdate(update))
  })
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)))
    }),
    DEADLINE_MS,
    'the connection to open',
  )
  ws.send(encodeSyncStep1(Y.encodeStateVector(ydoc)))
  const waitFor = (predicate: () => boolean, what: string): Promise<void> =>
    withDeadline(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            waiters.delete(check)
            resolve()
          } else if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check)
            reject(new Error(`connection closed while waiting for ${what}`))
          }
        }
        waiters.add(check)
        check()
      }),
      DEADLINE_MS,
      what,
    )
  return {
    doc: ydoc,
    ws,
    messages,
    closed,
    waitFor,
    publishPresence: (state, clock) =>
      ws.send(encodeAwareness(encodeAwarenessUpdate([{ clientId: ydoc.clientID, clock, state: JSON.stringify(state) }]))),
    close: async () => {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close()
        await closed
      }
    },
  }
}
