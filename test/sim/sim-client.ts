/**
 * A Meridian client in the simulation: a Y.Doc with a fixed client id that
 * syncs with one relay over a simulated link, keeps its edits while
 * offline, and records which of its updates a relay acknowledged as durable.
 */
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
  tryDecode,
} from '@meridian/core'
import type { MessageSocket } from '@meridian/server'

const REMOTE = Symbol('remote')

export class SimClient {
  readonly doc: Y.Doc
  socket: MessageSocket | null = null
  region: string | null = null
  /** Highest own clock any relay acknowledged as durable. */
  ackedClock = 0
  /** Close codes this client was refused with (e.g. wrong region). */
  readonly refusals: number[] = []

  constructor(
    readonly name: string,
    clientId: number,
    readonly docName: string,
  ) {
    this.doc = new Y.Doc({ guid: docName })
    this.doc.clientID = clientId
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE && this.socket?.isOpen) this.socket.send(encodeSyncUpdate(update))
    })
  }

  get clientId(): number {
    return this.doc.clientID
  }

  /** Own clock: how many own items this client has created. */
  get ownClock(): number {
    return Y.getState(this.doc.store, this.doc.clientID)
  }

  attach(socket: MessageSocket, region: string): void {
    this.detach()
    this.socket = socket
    this.region = region
    socket.on('open', () => {
      socket.send(encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck))
      socket.send(encodeSyncStep1(Y.encodeStateVector(this.doc)))
    })
    socket.on('message', (data) => {
      const decoded = tryDecode(() => decodeClientMessage(data))
      if (!decoded.ok) throw new Error(`relay sent garbage: ${decoded.error.message}`)
      const msg = decoded.value
      if (msg.type === 'sync-step1') socket.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, msg.stateVector)))
      else if (msg.type === 'sync-step2' || msg.type === 'sync-update') Y.applyUpdate(this.doc, msg.update, REMOTE)
      else if (msg.type === 'durable-ack') {
        const own = decodeStateVectorSafe(msg.stateVector).get(this.doc.clientID) ?? 0
        this.ackedClock = Math.max(this.ackedClock, own)
      }
    })
    socket.on('close', (code) => {
      if (code >= 4000) this.refusals.push(code)
      if (this.socket === socket) {
        this.socket = null
        this.region = null
      }
    })
  }

  detach(): void {
    const s = this.socket
    this.socket = null
    this.region = null
    s?.close(1000, 'client going offline')
  }

  edit(kind: number, a: number, b: number): void {
    const text = this.doc.getText('t')
    const arr = this.doc.getArray<number>('a')
    const map = this.doc.getMap<number>('m')
    switch (kind % 5) {
      case 0:
        text.insert(a % (text.length + 1), String.fromCharCode(97 + (b % 26)).repeat(1 + (b % 3)))
        break
      case 1:
        if (text.length > 0) text.delete(a % text.length, 1 + (b % Math.min(3, text.length - (a % text.length))))
        else text.insert(0, 'z')
        break
      case 2:
        arr.insert(a % (arr.length + 1), [b])
        break
      case 3:
        if (arr.length > 0) arr.delete(a % arr.length, 1)
        else arr.push([b])
        break
      default:
        map.set(`k${a % 4}`, b)
    }
  }
}

/** Content of a document by the root types the simulation uses. */
export const fingerprint = (doc: Y.Doc): string => {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const fp = JSON.stringify({
    t: copy.getText('t').toString(),
    a: copy.getArray('a').toJSON(),
    m: copy.getMap('m').toJSON(),
    sv: [...Y.decodeStateVector(Y.encodeStateVector(copy))].sort((x, y) => x[0] - y[0]),
  })
  copy.destroy()
  return fp
}
