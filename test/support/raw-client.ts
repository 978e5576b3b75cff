/**
 * A minimal Meridian protocol client for tests: a Y.Doc synced over one
 * WebSocket, with the durable-ack extension, and waits driven by events.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  ClientFeature,
  MERIDIAN_CLIENT_PROTOCOL_VERSION,
  decodeClientMessage,
  decodeStateVectorSafe,
  encodeMeridianHello,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  type ClientMessage,
} from '@meridian/core'

export interface RawClient {
  doc: Y.Doc
  ws: WebSocket
  messages: ClientMessage[]
  /** State vector of the latest durable ack, as a map. */
  durable: () => Map<number, number>
  closed: Promise<{ code: number; reason: string }>
  waitFor(predicate: () => boolean, what: string): Promise<void>
  close(): Promise<void>
}

export const connectRawClient = async (
  url: string,
  docName: string,
  options: { meridian?: boolean; doc?: Y.Doc } = {},
): Promise<RawClient> => {
  const doc = options.doc ?? new Y.Doc()
  const ws = new WebSocket(`${url}/${encodeURIComponent(docName)}`)
  ws.binaryType = 'nodebuffer'
  const messages: ClientMessage[] = []
  let durable = new Map<number, number>()
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
    if (msg.type === 'sync-step1') ws.send(encodeSyncStep2(Y.encodeStateAsUpdate(doc, msg.stateVector)))
    else if (msg.type === 'sync-step2' || msg.type === 'sync-update') Y.applyUpdate(doc, msg.update, 'remote')
    else if (msg.type === 'durable-ack') durable = decodeStateVectorSafe(msg.stateVector)
    notify()
  })
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote' && ws.readyState === WebSocket.OPEN) ws.send(encodeSyncUpdate(update))
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)))
  })
  ws.on('error', () => {})
  if (options.meridian !== false) ws.send(encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck | ClientFeature.RelayInfo))
  ws.send(encodeSyncStep1(Y.encodeStateVector(doc)))
  const waitFor = (predicate: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
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
    })
  return {
    doc,
    ws,
    messages,
    durable: () => durable,
    closed,
    waitFor,
    close: async () => {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close()
        await closed
      }
    },
  }
}

/** True when every clock in `local` is covered by `acked`. */
export const covers = (acked: Map<number, number>, local: Map<number, number>): boolean =>
  [...local].every(([client, clock]) => (acked.get(client) ?? 0) >= clock)
