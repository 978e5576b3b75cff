/**
 * Two providers on two regions edit one document and converge; whenSynced,
 * region, status and relay-info behave as documented.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startCluster, type Cluster } from '../support/cluster.js'
import { Providers, docUntil, nextEvent } from './support.js'

let cluster: Cluster | null = null
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  await cluster?.close()
  cluster = null
  expect(unexpectedErrors).toEqual([])
})

describe('MeridianProvider sync', () => {
  it('syncs a document through two regions and converges', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const regions = [
      { region: 'eu', url: cluster.node('eu').relay.url },
      { region: 'us', url: cluster.node('us').relay.url },
    ]
    const a = providers.create(new Y.Doc(), 'notes/42', { regions, preferredRegion: 'eu' })
    const b = providers.create(new Y.Doc(), 'notes/42', { regions, preferredRegion: 'us' })
    const statuses: string[] = []
    a.on('status', ({ status }) => statuses.push(status))
    const info = nextEvent(a, 'relay-info')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    expect(a.region).toBe('eu')
    expect(b.region).toBe('us')
    expect(a.synced).toBe(true)
    expect(statuses).toEqual(['connecting', 'connected', 'synced'])
    const [relayInfo] = await info
    expect(relayInfo.region).toBe('eu')
    expect(relayInfo.relayId).toBe(cluster.node('eu').relay.relayId)

    a.doc.getText('t').insert(0, 'hello from eu')
    b.doc.getMap('m').set('from', 'us')
    await docUntil(b.doc, () => b.doc.getText('t').toString() === 'hello from eu', 'eu text at us')
    await docUntil(a.doc, () => a.doc.getMap('m').get('from') === 'us', 'us map at eu')
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc))
    await Promise.all([a.whenDurable(), b.whenDurable()])
    expect(a.durable && b.durable).toBe(true)
  })

  it('sends awareness states between providers', async () => {
    cluster = await startCluster(['eu'])
    const regions = [{ region: 'eu', url: cluster.node('eu').relay.url }]
    const a = providers.create(new Y.Doc(), 'room', { regions })
    const b = providers.create(new Y.Doc(), 'room', { regions })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    const seen = new Promise<void>((resolve) => {
      const check = (): void => {
        if (b.awareness.getStates().get(a.doc.clientID)?.user === 'ada') {
          b.awareness.off('change', check)
          resolve()
        }
      }
      b.awareness.on('change', check)
    })
    a.awareness.setLocalStateField('user', 'ada')
    await seen
    expect(b.awareness.getStates().get(a.doc.clientID)).toEqual({ user: 'ada' })
  })
})
