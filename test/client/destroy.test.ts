/**
 * destroy() leaves nothing running: every WebSocket the provider opened is
 * closed, and the process holds no more timers or sockets than before it
 * existed — with health checks, retries and file persistence all active.
 * It is idempotent, and promises waiting on the provider settle.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { Awareness } from 'y-protocols/awareness'
import { Relay, type LinkProxy } from '@meridian/server'
import { FilePersistence } from '@meridian/client/node'
import { makeTempDir } from '../support/temp-dir.js'
import { Providers, frontProxy, nextEvent, trackedWebSocket } from './support.js'

const relays: Relay[] = []
const proxies: LinkProxy[] = []
const cleanups: (() => Promise<void>)[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const p of proxies.splice(0)) await p.close()
  for (const r of relays.splice(0)) await r.close()
  for (const c of cleanups.splice(0)) await c()
  expect(unexpectedErrors).toEqual([])
})

const awarenessOwnListeners = (): number => {
  const scratch = new Y.Doc()
  const awareness = new Awareness(scratch)
  awareness.destroy()
  const n = (scratch as unknown as { _observers: Map<string, Set<unknown>> })._observers.get('destroy')?.size ?? 0
  scratch.destroy()
  return n
}

/**
 * Timers and sockets alive in the process. File requests are left out: the
 * relays' own (audit log, store) come and go on their schedule, and the
 * provider's file writes are awaited through whenStoredLocally().
 */
const resources = (): string[] => process.getActiveResourcesInfo().filter((r) => !r.startsWith('FSReq')).sort()

/**
 * Resources alive now beyond those in `baseline`, as a multiset difference:
 * the relays' own timers may have ended since (fewer is fine), but nothing
 * may be left over from the provider.
 */
const leftOver = (baseline: string[]): string[] => {
  const counts = new Map<string, number>()
  for (const r of baseline) counts.set(r, (counts.get(r) ?? 0) + 1)
  const extra: string[] = []
  for (const r of resources()) {
    const left = counts.get(r) ?? 0
    if (left > 0) counts.set(r, left - 1)
    else extra.push(r)
  }
  return extra
}

/** Socket handles are released a few event-loop turns after their 'close' events (both ends live in this process). */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

const closedSocket = (ws: WebSocket): Promise<void> =>
  ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((resolve) => ws.once('close', () => resolve()))

describe('destroy', () => {
  it('leaves no timer, socket or listener behind', async () => {
    const dir = await makeTempDir()
    cleanups.push(dir.remove)
    const eu = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
    const us = await new Relay({ region: 'us', logLevel: 'silent' }).start()
    relays.push(eu, us)
    const euFront = await frontProxy(eu.port)
    proxies.push(euFront)
    euFront.cutLink()
    const baseline = resources()

    const { Impl, sockets } = trackedWebSocket()
    const doc = new Y.Doc()
    const provider = providers.create(doc, 'notes/destroy', {
      regions: [
        { region: 'eu', url: `ws://127.0.0.1:${euFront.port}` },
        { region: 'us', url: us.url },
      ],
      preferredRegion: 'eu',
      WebSocketPolyfill: Impl,
      measureRtt: true,
      healthCheckIntervalMs: 20,
      minRegionDwellMs: 60_000,
      persistence: new FilePersistence(join(dir.path, 'doc.bin')),
    })
    // Settled in us while health checks of eu keep running.
    await nextEvent(provider, 'region-change', (e) => e.to === 'us')
    await nextEvent(provider, 'region-health', (e) => e.region === 'eu' && !e.healthy)
    doc.getText('t').insert(0, 'x')
    const synced = provider.whenSynced()
    const durable = provider.whenDurable()
    const observers = (doc as unknown as { _observers: Map<string, Set<unknown>> })._observers
    const docListeners = (name: string): number => observers.get(name)?.size ?? 0
    expect(docListeners('update')).toBeGreaterThan(0)

    provider.destroy()
    provider.destroy()
    await synced
    await durable.catch(() => undefined)
    await Promise.all([...sockets].map(closedSocket))
    await provider.whenStoredLocally()
    await turns(3)

    expect(sockets.size).toBeGreaterThanOrEqual(2)
    expect(docListeners('update')).toBe(0)
    // y-protocols' Awareness registers a 'destroy' listener on its doc that it never removes.
    expect(docListeners('destroy')).toBe(awarenessOwnListeners())
    expect(provider.status).toBe('offline')
    expect(leftOver(baseline)).toEqual([])
    await expect(provider.whenSynced()).rejects.toMatchObject({ code: 'destroyed' })
    await expect(provider.whenDurable()).rejects.toMatchObject({ code: 'destroyed' })
  })

  it('leaves no retry timer behind when destroyed while waiting to reconnect', async () => {
    const eu = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
    relays.push(eu)
    const front = await frontProxy(eu.port)
    proxies.push(front)
    front.cutLink()
    const baseline = resources()
    const { Impl, sockets } = trackedWebSocket()
    const provider = providers.create(new Y.Doc(), 'notes/retrying', {
      regions: [{ region: 'eu', url: `ws://127.0.0.1:${front.port}` }],
      WebSocketPolyfill: Impl,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    })
    await nextEvent(provider, 'connection-close')
    expect(provider.status).toBe('offline')
    provider.destroy()
    await Promise.all([...sockets].map(closedSocket))
    await turns(3)
    expect(leftOver(baseline)).toEqual([])
  })

  it('destroying the Y.Doc destroys its provider', async () => {
    const eu = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
    relays.push(eu)
    const doc = new Y.Doc()
    const provider = providers.create(doc, 'notes/doc-destroy', { regions: [{ region: 'eu', url: eu.url }] })
    await provider.whenSynced()
    const offline = nextEvent(provider, 'status', (e) => e.status === 'offline')
    doc.destroy()
    await offline
    expect(provider.region).toBeNull()
    await expect(provider.whenSynced()).rejects.toMatchObject({ code: 'destroyed' })
  })
})
