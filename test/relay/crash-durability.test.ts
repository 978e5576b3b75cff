/**
 * SIGKILL a relay process in the middle of a write stream, restart it on the
 * same data directory, and check that every update it acknowledged as
 * durable is there (counted as attempted / acknowledged / present).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { makeTempDir } from '../support/temp-dir.js'
import { startRelayProcess } from '../support/relay-process.js'
import { connectRawClient } from '../support/raw-client.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('acknowledged writes survive SIGKILL', () => {
  for (const durability of ['fsync', 'buffered'] as const) {
    it(`durability=${durability}`, async () => {
      const dir = await makeTempDir()
      cleanups.push(dir.remove)
      const args = ['--region', 'eu', '--port', '0', '--data', dir.path, '--durability', durability]
      const relay = await startRelayProcess(args)
      cleanups.push(() => relay.kill('SIGKILL'))
      const client = await connectRawClient(relay.url, 'stream/doc')
      const items = client.doc.getArray<number>('items')
      const me = client.doc.clientID
      // Each push is one struct of length 1, so item i has clock i.
      const ackedCount = (): number => client.durable().get(me) ?? 0

      let attempted = 0
      const killAfterAcks = 150
      // A well-behaved writer: at most 64 updates ahead of the acks.
      while (ackedCount() < killAfterAcks) {
        while (attempted - ackedCount() < 64) items.push([attempted++])
        const target = attempted - 32
        await client.waitFor(() => ackedCount() >= target, 'durable acks')
      }
      // Keep writing while the process dies.
      for (let i = 0; i < 50; i++) items.push([attempted++])
      relay.child.kill('SIGKILL')
      await relay.exited
      const acknowledged = ackedCount()
      await client.close()

      const again = await startRelayProcess(args)
      cleanups.push(() => again.kill('SIGKILL'))
      const reader = await connectRawClient(again.url, 'stream/doc', { doc: new Y.Doc() })
      await reader.waitFor(() => reader.messages.some((m) => m.type === 'sync-step2'), 'initial sync')
      const present = new Set(reader.doc.getArray<number>('items').toArray())
      const lost = [...Array(acknowledged).keys()].filter((i) => !present.has(i))
      console.log(`crash(${durability}): attempted ${attempted}, acknowledged ${acknowledged}, present ${present.size}, lost ${lost.length}`)
      expect(acknowledged).toBeGreaterThanOrEqual(killAfterAcks)
      expect(lost).toEqual([])
      await reader.close()
    })
  }
})
