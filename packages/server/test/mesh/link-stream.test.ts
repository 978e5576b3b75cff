/**
 * Peer framing (protocol 2): frames in the link stream are deflated against
 * the link's recent payloads, so an immediate delta costs less than its raw
 * update; a frame out of its stream position is refused, never misread.
 */
import { deflateRawSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DecodeError, encodeAck, encodeBatch, encodeBatchPayload, encodeDelta, type PeerMessage } from '@meridian/core'
import { PeerLink } from '../../src/mesh/peer-link.js'
import type { MessageSocket } from '../../src/transport/socket.js'

const LIMITS = { maxPayloadBytes: 1 << 20 }

/** A socket that only records what is sent. */
const recordingSocket = (frames: Uint8Array[]): MessageSocket => ({
  isOpen: true,
  bufferedAmount: 0,
  send: (data) => void frames.push(data),
  close: () => {},
  terminate: () => {},
  on: () => {},
  off: () => {},
})

/** One-character edits on ten documents, as a steady link carries them: one delta per frame. */
const steadyDeltas = (rounds: number): { doc: string; update: Uint8Array }[] => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ name: `notes/doc-${i}`, doc: new Y.Doc(), updates: [] as Uint8Array[] }))
  for (const d of docs) d.doc.on('update', (u: Uint8Array) => d.updates.push(u))
  const out: { doc: string; update: Uint8Array }[] = []
  for (let r = 0; r < rounds; r++) {
    for (const d of docs) {
      d.doc.getText('t').insert(d.doc.getText('t').length, 'x')
      out.push({ doc: d.name, update: d.updates[r]! })
    }
  }
  return out
}

const sendSteady = (stream: boolean, rounds: number) => {
  const frames: Uint8Array[] = []
  const sender = new PeerLink(recordingSocket(frames), LIMITS, stream)
  const deltas = steadyDeltas(rounds)
  deltas.forEach(({ doc, update }, i) => sender.sendEncoded([encodeDelta(doc, update, 'eu', 1_764_000_000_000 + i * 50, i + 1)], update.byteLength, 1))
  return { frames, sender, deltas }
}

const receiverOf = (): PeerLink => new PeerLink(recordingSocket([]), LIMITS)

describe('peer link stream', () => {
  it('immediate deltas cost less on the wire than their raw updates, and arrive intact', () => {
    const { frames, sender, deltas } = sendSteady(true, 30)
    const receiver = receiverOf()
    const received = frames.flatMap((f) => receiver.decodeFrame(f))
    expect(received).toEqual(deltas.map(({ doc, update }, i) => ({ type: 'delta', doc, update, originRegion: 'eu', originTime: 1_764_000_000_000 + i * 50, seq: i + 1 })))
    const { wireBytesOut, rawUpdateBytesOut, framesOut } = sender.counters
    expect(framesOut).toBe(300)
    // Each frame carries one delta: document name, origin, time, mark and the update.
    expect(wireBytesOut).toBeLessThan(rawUpdateBytesOut)
    expect(receiver.counters.wireBytesIn).toBe(wireBytesOut)
  })

  it('standalone frames (peerLinkStream off) carry each delta whole: more bytes than the raw update', () => {
    const { frames, sender, deltas } = sendSteady(false, 30)
    const receiver = receiverOf()
    expect(frames.flatMap((f) => receiver.decodeFrame(f)).map((m) => (m as { doc: string }).doc)).toEqual(deltas.map((d) => d.doc))
    expect(sender.counters.wireBytesOut).toBeGreaterThan(sender.counters.rawUpdateBytesOut)
  })

  const outOfSequence = (frames: Uint8Array[]): DecodeError => {
    const receiver = receiverOf()
    try {
      for (const f of frames) receiver.decodeFrame(f)
    } catch (err) {
      return err as DecodeError
    }
    throw new Error('every frame decoded')
  }

  it.each([
    ['lost', (f: Uint8Array[]) => [f[0]!, f[1]!, f[3]!]],
    ['repeated', (f: Uint8Array[]) => [f[0]!, f[1]!, f[1]!]],
    ['reordered', (f: Uint8Array[]) => [f[0]!, f[2]!, f[1]!]],
  ])('a %s frame is refused with a DecodeError naming the position', (_, pick) => {
    const { frames } = sendSteady(true, 1)
    const err = outOfSequence(pick(frames))
    expect(err).toBeInstanceOf(DecodeError)
    expect(err.code).toBe('bad-value')
    expect(err.message).toMatch(/out of sequence: stream position \d+, expected \d+/)
  })

  it('a frame whose position aliases (64 frames lost) fails to inflate rather than being misread', () => {
    const { frames } = sendSteady(true, 7)
    // Frame 64 claims position 0 to a fresh receiver, but was deflated against a dictionary it does not have.
    const err = outOfSequence([frames[64]!])
    expect(err).toBeInstanceOf(DecodeError)
    expect(err.message).toMatch(/does not inflate/)
  })

  it('a stream frame that inflates past the payload limit is refused as too large', () => {
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(LIMITS.maxPayloadBytes + 1)))
    const err = outOfSequence([encodeBatch(true, bomb, 0)])
    expect(err.code).toBe('too-large')
  })

  it('reads a peer that mixes standalone and stream frames; only stream frames advance the stream', () => {
    const receiver = receiverOf()
    const ack = (seq: number): Uint8Array => encodeBatchPayload([encodeAck(seq)])
    const got: PeerMessage[] = [
      ...receiver.decodeFrame(encodeBatch(false, ack(1), 0)),
      ...receiver.decodeFrame(encodeBatch(false, ack(2))),
      ...receiver.decodeFrame(encodeBatch(false, ack(3), 1)),
    ]
    expect(got).toEqual([1, 2, 3].map((seq) => ({ type: 'ack', seq })))
  })
})
