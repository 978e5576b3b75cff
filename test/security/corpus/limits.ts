/**
 * Resource limits: the per-connection message rate (token bucket) and the
 * bytes a client may send before its document has loaded.
 */
import { expect } from 'vitest'
import * as Y from 'yjs'
import { CloseCode as C, encodeMeridianHello, encodeSyncStep1, encodeSyncUpdate } from '@meridian/core'
import type { CaseContext, HostileCase } from '../support/hostile-suite.js'
import { DEADLINE_MS, withDeadline } from '../support/deadline.js'
import { clientsOf } from '../support/stored.js'

/** The limits suite's relay: low enough that honest traffic never comes near them. */
export const LIMITS = { rateLimitPerSecond: 20, rateLimitBurst: 50, maxPreAuthBytes: 1024 } as const

/** A real ~600-byte update from client `clientID` (so it could apply, were it not refused). */
export const bulkyUpdate = (clientID: number, text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  const u = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return u
}

const PRE_AUTH_DOC = 'gated/flood'

export const limitCases: HostileCase[] = [
  {
    name: 'message flood past the rate limit',
    expect: C.RateLimited,
    frames: () => Array.from({ length: LIMITS.rateLimitBurst * 4 }, () => encodeMeridianHello(1, 0)),
  },
  {
    name: 'more than maxPreAuthBytes before the document loaded',
    expect: C.MessageTooLarge,
    attack: async (ctx: CaseContext) => {
      ctx.store.holdLoad(PRE_AUTH_DOC)
      const attacker = ctx.attacker(`/${encodeURIComponent(PRE_AUTH_DOC)}`)
      await withDeadline(ctx.store.reachedLoad(PRE_AUTH_DOC), DEADLINE_MS, 'the relay to start loading the document')
      await attacker.opened
      const update = bulkyUpdate(31337, 'p'.repeat(600))
      expect(update.length * 2).toBeGreaterThan(LIMITS.maxPreAuthBytes)
      attacker.send(encodeSyncStep1(new Uint8Array([0])))
      attacker.send(encodeSyncUpdate(update))
      attacker.send(encodeSyncUpdate(bulkyUpdate(31338, 'q'.repeat(600))))
      const close = await withDeadline(attacker.closed, DEADLINE_MS, 'the relay to close the offender')
      expect(close.received, 'messages sent before the document loaded').toBe(0)
      return close
    },
    verify: async (ctx) => {
      ctx.store.releaseLoad(PRE_AUTH_DOC)
      const live = await ctx.relay.docs.acquire(PRE_AUTH_DOC)
      expect([...clientsOf(live.doc)], 'buffered updates of a refused connection were applied').toEqual([])
    },
  },
]
