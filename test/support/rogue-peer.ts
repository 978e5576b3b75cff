/**
 * A relay peer spoken by hand: it says hello as some region (on a relay with
 * open peering, or with the right secret's MAC left out where none is needed)
 * and then sends whatever batches a test wants, collecting what comes back.
 * For tests of what a relay refuses or answers to a misbehaving peer.
 */
import { inflateRawSync } from 'node:zlib'
import WebSocket from 'ws'
import {
  decodeBatchMessages, decodePeerMessage, encodeBatch, encodeBatchPayload, encodeHello,
  BATCH_STREAM_POSITIONS, PEER_LINK_DICTIONARY_BYTES, PEER_PROTOCOL_VERSION, type PeerMessage,
} from '@meridian/core'
import { PEER_PATH } from '@meridian/server'

export interface RoguePeer {
  ws: WebSocket
  /** Every message received after the hello, in order. */
  received: PeerMessage[]
  send(messages: Uint8Array[]): void
  /** Resolves with the first received message (past or future) that satisfies `test`. */
  waitFor<M extends PeerMessage>(test: (m: PeerMessage) => m is M): Promise<M>
  close(): Promise<void>
}

export const connectRoguePeer = async (relayUrl: string, region: string, policyHash = 'rogue'): Promise<RoguePeer> => {
  const ws = new WebSocket(`${relayUrl}${PEER_PATH}`)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.send(encodeHello({ version: PEER_PROTOCOL_VERSION, relayId: `rogue-${region}`, region, policyHash, time: Date.now(), nonce: new Uint8Array(16), auth: new Uint8Array([0]) }))
  await new Promise((resolve) => ws.once('message', resolve))
  const received: PeerMessage[] = []
  const listeners = new Set<() => void>()
  // The relay's frames form a stream (protocol 2): read here from the
  // codec's description, independently of the relay's own LinkStream.
  let dictionary = Buffer.alloc(0)
  let position = 0
  ws.on('message', (data: Buffer) => {
    const outer = decodePeerMessage(new Uint8Array(data))
    if (outer.type !== 'batch') return
    let payload = outer.payload
    if (outer.stream !== null) {
      if (outer.stream !== position++ % BATCH_STREAM_POSITIONS) throw new Error('rogue peer: relay frame out of sequence')
      if (outer.compressed) payload = new Uint8Array(inflateRawSync(payload, { windowBits: 12, ...(dictionary.length ? { dictionary } : {}) }))
      dictionary = Buffer.concat([dictionary, payload]).subarray(-PEER_LINK_DICTIONARY_BYTES)
    } else if (outer.compressed) {
      payload = new Uint8Array(inflateRawSync(payload))
    }
    received.push(...decodeBatchMessages(payload))
    for (const l of [...listeners]) l()
  })
  return {
    ws,
    received,
    send: (messages) => ws.send(encodeBatch(false, encodeBatchPayload(messages))),
    waitFor: <M extends PeerMessage>(test: (m: PeerMessage) => m is M) =>
      new Promise<M>((resolve) => {
        const check = (): void => {
          const found = received.find(test)
          if (!found) return
          listeners.delete(check)
          resolve(found)
        }
        listeners.add(check)
        check()
      }),
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return
      const closed = new Promise((resolve) => ws.once('close', resolve))
      ws.close()
      await closed
    },
  }
}
