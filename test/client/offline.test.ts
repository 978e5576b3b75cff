/**
 * Offline: edits made while no relay is reachable stay in the document and
 * reach the relay on reconnect; with file persistence they also survive the
 * process (a new provider on a new Y.Doc loads and sends them).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import * as Y from 'yjs'
import { Relay, type LinkProxy } from '@meridian/server'
import { FilePersistence } from '@meridian/client/node'
import { makeTempDir } from '../support/temp-dir.js'
import { waitUntil, docJson } from '../support/cluster.js'
import { Providers, docUntil, frontProxy, nextEvent } from './support.js'

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

const startRelay = async (): Promise<Relay> => {
  const relay = await new Relay({ region: 'eu', logLevel: 'silent' }).start()
  relays.push(relay)
  return relay
}

describe('offline editing', () => {
  it('keeps edits made while the region is unreachable and sends them on reconnect', async () => {
    const relay = await startRelay()
    const front = await frontProxy(relay.port)
    proxies.push(front)
    const a = providers.create(new Y.Doc(), 'notes/offline', { regions: [{ region: 'eu', url: `ws://127.0.0.1:${front.port}` }] })
    const b = providers.create(new Y.Doc(), 'notes/offline', { regions: [{ region: 'eu', url: relay.url }] })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    const list = a.doc.getArray<number>('a')
    list.push([1])
    await docUntil(b.doc, () => b.doc.getArray('a').length === 1, 'first item at b')

    const offline = nextEvent(a, 'status', (e) => e.status === 'offline')
    front.cutLink()
    await offline
    for (let i = 2; i <= 20; i++) list.push([i])
    list.delete(0, 1) // a deletion made offline travels too
    expect(a.durable).toBe(false)
    expect(b.doc.getArray('a').length).toBe(1)

    front.heal()
    await a.whenDurable()
    await docUntil(b.doc, () => b.doc.getArray('a').toJSON().join() === list.toJSON().join(), 'offline edits at b')
    expect(b.doc.getArray('a').toJSON()).toEqual(Array.from({ length: 19 }, (_, i) => i + 2))
  })

  it('disconnect() stops syncing, connect() resumes and sends what was missed', async () => {
    const relay = await startRelay()
    const regions = [{ region: 'eu', url: relay.url }]
    const a = providers.create(new Y.Doc(), 'notes/toggle', { regions })
    const b = providers.create(new Y.Doc(), 'notes/toggle', { regions })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.disconnect()
    expect(a.status).toBe('offline')
    expect(a.region).toBeNull()
    a.doc.getMap('m').set('while', 'disconnected')
    b.doc.getMap('m').set('meanwhile', 'elsewhere')
    a.connect()
    await docUntil(b.doc, () => b.doc.getMap('m').get('while') === 'disconnected', 'a at b')
    await docUntil(a.doc, () => a.doc.getMap('m').get('meanwhile') === 'elsewhere', 'b at a')
  })

  it('with file persistence, offline edits survive a restart and reach the relay', async () => {
    const dir = await makeTempDir()
    cleanups.push(dir.remove)
    const file = join(dir.path, 'notes.ydoc')
    const relay = await startRelay()
    const front = await frontProxy(relay.port)
    proxies.push(front)
    front.cutLink()
    const regions = [{ region: 'eu', url: `ws://127.0.0.1:${front.port}` }]

    // First run: never reaches the relay.
    const first = providers.create(new Y.Doc(), 'notes/file', { regions, persistence: new FilePersistence(file) })
    await first.whenLoaded()
    const t = first.doc.getText('t')
    t.insert(0, 'written offline, ')
    t.insert(t.length, 'kept on disk')
    t.delete(0, 8) // "written " goes: a deletion from the first run
    await first.whenStoredLocally()
    first.destroy()

    // Second run: a fresh document loads the file, then the region comes back.
    front.heal()
    const second = providers.create(new Y.Doc(), 'notes/file', { regions, persistence: new FilePersistence(file) })
    await second.whenLoaded()
    expect(second.doc.getText('t').toString()).toBe('offline, kept on disk')
    await second.whenSynced()
    await second.whenDurable()
    await waitUntil([relay], () => docJson(relay, 'notes/file')?.t === 'offline, kept on disk')
  })
})
