/**
 * One benchmark client connection: a WebSocket to one document that does
 * the handshake of its dialect and hands every received update (sync step 2
 * or update) to the caller undecoded. It keeps no Y.Doc of what it receives:
 * integrating every remote update in the load generator would make the
 * generator, not the server, the bottleneck.
 */
import WebSocket from 'ws'
import { decodeIncoming, encodeStep1, encodeUpdate, hocuspocusAuth, meridianHello, type Flavor } from './frames.js'

export interface Target {
  url: string
  flavor: Flavor
  /** False for the bare relay, which never answers a sync step 1. */
  syncs: boolean
}

export interface ConnectOptions {
  doc: string
  /** Send meridian-hello asking for durable acks (Meridian only). */
  durableAcks?: boolean
  onUpdate?: (update: Uint8Array) => void
  onDurableAck?: (stateVector: Uint8Array) => void
  onUnexpectedClose?: (code: number, reason: string) => void
}

const EMPTY_STATE_VECTOR = Uint8Array.of(0)

export class BenchConnection {
  framesIn = 0
  bytesIn = 0
  private closing = false

  private constructor(
    readonly ws: WebSocket,
    readonly target: Target,
    readonly options: ConnectOptions,
  ) {}

  /** Resolves once the server answered the first sync step 1 (or, for the bare relay, once open). */
  static open(target: Target, options: ConnectOptions, timeoutMs = 30_000): Promise<BenchConnection> {
    const ws = new WebSocket(`${target.url}/${options.doc}`, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
    const conn = new BenchConnection(ws, target, options)
    return new Promise((resolve, reject) => {
      let synced = false
      const timer = setTimeout(() => fail(new Error(`no sync from ${target.url} for ${options.doc} within ${timeoutMs} ms`)), timeoutMs)
      const fail = (err: Error): void => {
        clearTimeout(timer)
        if (!synced) {
          synced = true
          ws.terminate()
          reject(err)
        }
      }
      const done = (): void => {
        if (synced) return
        synced = true
        clearTimeout(timer)
        resolve(conn)
      }
      ws.on('error', (err) => fail(err))
      ws.on('close', (code, reason) => {
        if (!synced) fail(new Error(`closed before sync: ${code} ${reason.toString()}`))
        else if (!conn.closing) options.onUnexpectedClose?.(code, reason.toString())
      })
      ws.on('open', () => {
        if (target.flavor === 'hocuspocus') ws.send(hocuspocusAuth(options.doc))
        else {
          if (options.durableAcks) ws.send(meridianHello())
          ws.send(encodeStep1('yws', options.doc, EMPTY_STATE_VECTOR))
        }
        if (!target.syncs) done()
      })
      ws.on('message', (data: Buffer) => {
        conn.framesIn++
        conn.bytesIn += data.byteLength
        const msg = decodeIncoming(target.flavor, data)
        switch (msg.kind) {
          case 'authenticated':
            ws.send(encodeStep1('hocuspocus', options.doc, EMPTY_STATE_VECTOR))
            return
          case 'denied':
            fail(new Error(`permission denied: ${msg.reason}`))
            return
          case 'step2':
            options.onUpdate?.(msg.update)
            done()
            return
          case 'update':
            options.onUpdate?.(msg.update)
            return
          case 'durable-ack':
            options.onDurableAck?.(msg.stateVector)
            return
          default:
            return
        }
      })
    })
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  sendUpdate(update: Uint8Array): void {
    this.ws.send(encodeUpdate(this.target.flavor, this.options.doc, update))
  }

  /** Asks for what the server has beyond `stateVector`; the answer arrives through onUpdate. */
  sendStep1(stateVector: Uint8Array): void {
    this.ws.send(encodeStep1(this.target.flavor, this.options.doc, stateVector))
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  close(): Promise<void> {
    this.closing = true
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate()
        resolve()
      }, 2000)
      this.ws.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.ws.close()
    })
  }
}

/** Opens connections with at most `concurrency` handshakes at a time. */
export async function openMany(target: Target, options: ConnectOptions[], concurrency: number): Promise<BenchConnection[]> {
  const out: BenchConnection[] = new Array(options.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < options.length) {
      const i = next++
      out[i] = await BenchConnection.open(target, options[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, options.length) }, worker))
  return out
}
