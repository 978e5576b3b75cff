/**
 * Two relays peered through LinkProxies, each with its own RelayMetrics
 * (handed in, so the test reads the same registry the relay writes), plus
 * a minimal client that sends one Yjs update. Waits follow the relays' own
 * events, never the clock.
 */
import { once } from 'node:events'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { encodeSyncUpdate } from '@meridian/core'
import { Relay, LinkProxy, type RelayOptionsInput } from '../../src/index.js'
import { createRelayMetrics, type RelayMetrics } from '../../src/observability/metrics.js'
import type { UpdateOrigin } from '../../src/docs/origin.js'

export interface MeteredNode {
  relay: Relay
  metrics: RelayMetrics
  proxy: LinkProxy
}

export interface MeteredPair {
  eu: MeteredNode
  us: MeteredNode
  close(): Promise<void>
}

export const startMeteredPair = async (options: { delayMs?: number; relay?: Partial<RelayOptionsInput> } = {}): Promise<MeteredPair> => {
  const start = async (region: string): Promise<{ relay: Relay; metrics: RelayMetrics }> => {
    const metrics = createRelayMetrics()
    const relay = await new Relay({ region, logLevel: 'silent', ...options.relay }, { metrics }).start()
    return { relay, metrics }
  }
  const a = await start('eu')
  const b = await start('us')
  // Each relay dials the other through a proxy that delays every chunk.
  const toUs = new LinkProxy({ targetPort: b.relay.port, delayMs: options.delayMs ?? 0 })
  const toEu = new LinkProxy({ targetPort: a.relay.port, delayMs: options.delayMs ?? 0 })
  await toUs.start()
  await toEu.start()
  const connected = Promise.all([a.relay, b.relay].map((r) => new Promise<void>((resolve) => {
    const check = (): void => {
      if (!r.mesh!.fullyConnected()) return
      r.mesh!.off('session-open', check)
      resolve()
    }
    r.mesh!.on('session-open', check)
  })))
  a.relay.addPeer({ region: 'us', url: `ws://127.0.0.1:${toUs.port}` })
  b.relay.addPeer({ region: 'eu', url: `ws://127.0.0.1:${toEu.port}` })
  await connected
  const eu = { ...a, proxy: toUs }
  const us = { ...b, proxy: toEu }
  let closing: Promise<void> | null = null
  return {
    eu,
    us,
    close: () => (closing ??= (async () => {
      for (const n of [eu, us]) await n.relay.close()
      for (const n of [eu, us]) {
        await n.proxy.close()
        n.metrics.close()
      }
    })()),
  }
}

/** Resolves on the next effective update of `doc` at `relay` from an origin of `kind`. */
export const nextUpdate = (relay: Relay, doc: string, kind: UpdateOrigin['kind']): Promise<void> =>
  new Promise((resolve) => {
    const off = relay.docs.onEffectiveUpdate((live, _update, origin) => {
      if (live.name !== doc || origin.kind !== kind) return
      off()
      resolve()
    })
  })

/** A y-websocket client that inserts `text` into document `doc`; returns the socket and the update's size. */
export const editOnce = async (relay: Relay, doc: string, text: string): Promise<{ ws: WebSocket; bytes: number }> => {
  const ydoc = new Y.Doc()
  ydoc.getText('t').insert(0, text)
  const update = Y.encodeStateAsUpdate(ydoc)
  ydoc.destroy()
  const ws = new WebSocket(`${relay.url}/${encodeURIComponent(doc)}`)
  ws.on('error', () => {})
  await once(ws, 'open')
  ws.send(encodeSyncUpdate(update))
  return { ws, bytes: update.byteLength }
}

export const closeClient = async (ws: WebSocket): Promise<void> => {
  if (ws.readyState === WebSocket.CLOSED) return
  const closed = once(ws, 'close')
  ws.close()
  await closed
}
