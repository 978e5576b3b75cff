/**
 * Hostile corpus, part 4: document names, the message rate limit and the
 * pre-load byte cap. One relay with low limits, cases in sequence.
 */
import { expect, it } from 'vitest'
import { encodeSyncStep1, encodeSyncUpdate } from '@meridian/core'
import { hostileSuite } from './support/hostile-suite.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'
import { nameCases } from './corpus/names.js'
import { LIMITS, bulkyUpdate, limitCases } from './corpus/limits.js'
import { waitForDoc } from '../support/wait.js'

hostileSuite('hostile corpus: document names and limits', {
  relay: { ...LIMITS },
  cases: [...nameCases, ...limitCases],
  extra: (ctx) => {
    // The control for the pre-load cap: under it, what a client sends while
    // its document loads is kept and applied, so the refusal above is the cap.
    it('under maxPreAuthBytes, messages sent before the document loaded are applied', async () => {
      const { store, relay } = ctx()
      const doc = 'gated/ok'
      store.holdLoad(doc)
      const client = ctx().attacker(`/${encodeURIComponent(doc)}`)
      await withDeadline(store.reachedLoad(doc), DEADLINE_MS, 'the relay to start loading the document')
      await client.opened
      const update = bulkyUpdate(4711, 'o'.repeat(600))
      expect(update.length).toBeLessThan(LIMITS.maxPreAuthBytes)
      client.send(encodeSyncStep1(new Uint8Array([0])))
      client.send(encodeSyncUpdate(update))
      store.releaseLoad(doc)
      const live = await relay.docs.acquire(doc)
      await withDeadline(waitForDoc(live.doc, () => live.doc.getText('t').toString() === 'o'.repeat(600)), DEADLINE_MS, 'the buffered update to apply')
      client.ws.close()
      await client.closed
    })
  },
})
