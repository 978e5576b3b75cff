/**
 * Two relays run as separate processes through the CLI, peered with each
 * other. A provider streams edits to the preferred region; its relay is
 * SIGKILLed mid-stream. The provider must move to the other region and every
 * edit must arrive there: attempted = acknowledged = present.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { makeTempDir } from '../support/temp-dir.js'
import { reservePort } from '../support/ports.js'
import { startRelayProcess, type RelayProcess } from '../support/relay-process.js'
import { connectRawClient } from '../support/raw-client.js'
import { Providers, nextEvent, within } from './support.js'

const cleanups: (() => Promise<unknown>)[] = []
const providers = new Providers()
afterEach(async () => {
  const unexpectedErrors = providers.destroyAll()
  for (const c of cleanups.splice(0).reverse()) await c()
  expect(unexpectedErrors).toEqual([])
})

const startRelay = async (region: string, port: number, peer: string, peerPort: number): Promise<RelayProcess> => {
  const dir = await makeTempDir()
  cleanups.push(dir.remove)
  const relay = await startRelayProcess(['--region', region, '--port', String(port), '--data', dir.path, '--durability', 'buffered', '--peer', `${peer}=ws://127.0.0.1:${peerPort}`])
  cleanups.push(() => relay.kill('SIGKILL'))
  return relay
}

describe('failover across relay processes', () => {
  it('SIGKILL of the connected relay mid-stream: the provider moves region and every edit arrives', async () => {
    const [euPort, usPort] = [await reservePort(), await reservePort()]
    const eu = await startRelay('eu', euPort, 'us', usPort)
    const us = await startRelay('us', usPort, 'eu', euPort)
    const provider = providers.create(new Y.Doc(), 'stream/failover', {
      regions: [
        { region: 'eu', url: eu.url },
        { region: 'us', url: us.url },
      ],
      preferredRegion: 'eu',
    })
    await provider.whenSynced()
    expect(provider.region).toBe('eu')

    const items = provider.doc.getArray<number>('items')
    const total = 400
    const killAfterAcks = 100
    let attempted = 0
    let acknowledged = 0
    let acknowledgedAtKill = -1
    const moved = nextEvent(provider, 'region-change', (e) => e.to === 'us', 30_000)
    const streamed = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        items.push([attempted++])
        void provider.whenDurable().then(() => acknowledged++)
        if (acknowledgedAtKill < 0 && acknowledged >= killAfterAcks) {
          acknowledgedAtKill = acknowledged
          eu.child.kill('SIGKILL')
        }
        if (attempted === total) {
          clearInterval(timer)
          resolve()
        }
      }, 2)
      cleanups.push(async () => clearInterval(timer))
    })
    await within(streamed, 30_000, 'edit stream')
    expect((await moved)[0]).toEqual({ from: 'eu', to: 'us', reason: 'failover' })
    expect((await eu.exited).signal).toBe('SIGKILL')
    await within(provider.whenDurable(), 30_000, 'all edits durable in us')
    // Every whenDurable() call above has settled by now (they resolve in order).
    await new Promise((resolve) => setImmediate(resolve))

    const reader = await connectRawClient(us.url, 'stream/failover', { doc: new Y.Doc() })
    cleanups.push(() => reader.close())
    await reader.waitFor(() => reader.doc.getArray('items').length >= total, 'every item in us')
    const present = reader.doc.getArray<number>('items').toArray()
    console.log(
      `multi-process failover: attempted ${attempted}, acknowledged ${acknowledged} (${acknowledgedAtKill} before the kill), present in us ${present.length}`,
    )
    expect(acknowledgedAtKill).toBeGreaterThanOrEqual(killAfterAcks)
    expect(acknowledgedAtKill).toBeLessThan(total)
    expect(acknowledged).toBe(attempted)
    expect(present).toEqual(Array.from({ length: total }, (_, i) => i))
  })
})
