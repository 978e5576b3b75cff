/**
 * Framing of one relay-to-relay WebSocket: after the hello, every frame is a
 * `batch` of peer messages, deflated when that makes it smaller: against the
 * link's dictionary when the relay streams (the default), alone otherwise.
 * Counts wire bytes (what crossed the link) and raw update bytes (what Yjs
 * produced), so operators see what compression and coalescing save.
 */
import type { MessageSocket } from '../transport/socket.js'
import { LinkStream, inflate, standaloneFrame } from './link-stream.js'
import {
  DecodeError,
  decodeBatchMessages,
  decodePeerMessage,
  encodeBatch,
  encodeBatchPayload,
  type PeerMessage,
  type PeerDecodeLimits,
} from '@meridian/core'

export interface LinkCounters {
  framesOut: number
  framesIn: number
  wireBytesOut: number
  wireBytesIn: number
  rawUpdateBytesOut: number
  rawUpdateBytesIn: number
  deltasOut: number
  deltasIn: number
}

export const newCounters = (): LinkCounters => ({
  framesOut: 0, framesIn: 0, wireBytesOut: 0, wireBytesIn: 0, rawUpdateBytesOut: 0, rawUpdateBytesIn: 0, deltasOut: 0, deltasIn: 0,
})

const updateBytesOf = (msg: PeerMessage): number =>
  msg.type === 'delta' || msg.type === 'sync-step2' ? msg.update.byteLength : 0

export class PeerLink {
  readonly counters = newCounters()
  private readonly outStream: LinkStream | null
  private readonly inStream = new LinkStream()

  /** `stream`: send frames in the link stream (a peer may stream either way; both are read). */
  constructor(
    readonly socket: MessageSocket,
    private readonly limits: PeerDecodeLimits & { maxPayloadBytes: number },
    stream = true,
  ) {
    this.outStream = stream ? new LinkStream() : null
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  get open(): boolean {
    return this.socket.isOpen
  }

  /** Sends already-encoded messages as one frame; `rawBytes` is the update bytes they carry. */
  sendEncoded(messages: readonly Uint8Array[], rawBytes: number, deltas: number): void {
    if (messages.length === 0 || !this.open) return
    const payload = encodeBatchPayload(messages)
    const out = this.outStream ? this.outStream.next(payload) : standaloneFrame(payload)
    const frame = encodeBatch(out.compressed, out.body, out.stream)
    this.counters.framesOut++
    this.counters.wireBytesOut += frame.byteLength
    this.counters.rawUpdateBytesOut += rawBytes
    this.counters.deltasOut += deltas
    this.socket.send(frame)
  }

  /** Decodes one received frame into messages; throws DecodeError on anything malformed. */
  decodeFrame(bytes: Uint8Array): PeerMessage[] {
    this.counters.framesIn++
    this.counters.wireBytesIn += bytes.byteLength
    const outer = decodePeerMessage(bytes, this.limits)
    if (outer.type !== 'batch') throw new DecodeError('bad-value', `expected a batch frame, got ${outer.type}`)
    const payload = outer.stream !== null
      ? this.inStream.accept(outer.stream, outer.compressed, outer.payload, this.limits.maxPayloadBytes)
      : outer.compressed ? inflate(outer.payload, this.limits.maxPayloadBytes) : outer.payload
    const messages = decodeBatchMessages(payload, this.limits)
    for (const m of messages) {
      this.counters.rawUpdateBytesIn += updateBytesOf(m)
      if (m.type === 'delta') this.counters.deltasIn++
    }
    return messages
  }
}
