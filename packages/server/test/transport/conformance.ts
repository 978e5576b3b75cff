/**
 * The contract every MessageSocket implementation keeps; run by the
 * WebSocket and the in-process link tests alike.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MessageSocket } from '../../src/transport/socket.js'

export interface SocketPair {
  client: MessageSocket
  server: MessageSocket
  teardown(): Promise<void>
}

const opened = (s: MessageSocket): Promise<void> =>
  s.isOpen ? Promise.resolve() : new Promise((resolve) => s.on('open', () => resolve()))

const closed = (s: MessageSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => s.on('close', (code, reason) => resolve({ code, reason })))

const collect = (s: MessageSocket, n: number): Promise<Uint8Array[]> =>
  new Promise((resolve) => {
    const got: Uint8Array[] = []
    s.on('message', (data, isBinary) => {
      if (!isBinary) throw new Error('expected binary')
      got.push(data)
      if (got.length === n) resolve(got)
    })
  })

export const runSocketConformance = (name: string, makePair: () => Promise<SocketPair>): void => {
  describe(`MessageSocket conformance: ${name}`, () => {
    let pair: SocketPair | null = null
    afterEach(async () => {
      await pair?.teardown()
      pair = null
    })

    it('opens, then delivers binary messages in order both ways', async () => {
      pair = await makePair()
      await opened(pair.client)
      expect(pair.server.isOpen).toBe(true)
      const toServer = collect(pair.server, 100)
      const toClient = collect(pair.client, 3)
      for (let i = 0; i < 100; i++) pair.client.send(Uint8Array.of(i, i + 1))
      for (let i = 0; i < 3; i++) pair.server.send(Uint8Array.of(200 + i))
      expect((await toServer).map((m) => m[0])).toEqual([...Array(100).keys()])
      expect((await toClient).map((m) => m[0])).toEqual([200, 201, 202])
    })

    it('does not deliver a message to a listener added while that message is being handled', async () => {
      pair = await makePair()
      await opened(pair.client)
      const late: Uint8Array[] = []
      const first = new Promise<void>((resolve) => {
        const onFirst = (): void => {
          pair!.server.off('message', onFirst)
          pair!.server.on('message', (d) => late.push(d))
          resolve()
        }
        pair!.server.on('message', onFirst)
      })
      const both = collect(pair.server, 2)
      pair.client.send(Uint8Array.of(1))
      await first
      pair.client.send(Uint8Array.of(2))
      await both
      expect(late.map((m) => m[0])).toEqual([2])
    })

    it('does not let the sender mutate a message after send', async () => {
      pair = await makePair()
      await opened(pair.client)
      const got = collect(pair.server, 1)
      const buf = Uint8Array.of(1, 2, 3)
      pair.client.send(buf)
      buf[0] = 9
      expect([...(await got)[0]!]).toEqual([1, 2, 3])
    })

    it('carries the close code and reason to the other end', async () => {
      pair = await makePair()
      await opened(pair.client)
      const atServer = closed(pair.server)
      const atClient = closed(pair.client)
      pair.client.close(4004, 'wrong region; regions=eu')
      expect(await atServer).toEqual({ code: 4004, reason: 'wrong region; regions=eu' })
      expect((await atClient).code).toBe(4004)
      expect(pair.client.isOpen).toBe(false)
      expect(pair.server.isOpen).toBe(false)
    })

    it('reports an abrupt termination as 1006 and ignores sends after close', async () => {
      pair = await makePair()
      await opened(pair.client)
      const atClient = closed(pair.client)
      pair.server.terminate()
      expect((await atClient).code).toBe(1006)
      expect(() => pair!.client.send(Uint8Array.of(1))).not.toThrow()
    })

    it('reports bufferedAmount as a number that returns to 0 once delivered', async () => {
      pair = await makePair()
      await opened(pair.client)
      const got = collect(pair.server, 1)
      pair.client.send(new Uint8Array(1024))
      expect(typeof pair.client.bufferedAmount).toBe('number')
      await got
      expect(pair.client.bufferedAmount).toBe(0)
    })
  })
}
