/**
 * Updates that are well-formed but cannot be integrated: a struct whose
 * clock starts past what the relay holds for its client (a gap), or a
 * delete of content nobody has. yjs keeps such content aside as "pending"
 * in the Y.Doc, and `Y.encodeStateAsUpdate` includes it. A client can
 * legitimately cause pending content for a moment (an edit racing its own
 * sync-step2), but it must not be able to park content the relay will
 * never integrate: served to every later client and kept in memory
 * without bound.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode, encodeSyncUpdate } from '@meridian/core'
import { Relay } from '@meridian/server'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { waitForDoc } from '../support/wait.js'
import { bytes, oneClientUpdate, stringItem, varUint } from './support/bytes.js'
import { DEADLINE_MS, withDeadline } from './support/deadline.js'
import { openAttacker } from './support/attacker.js'
import { sampleUpdate } from './support/hostile-suite.js'

const MAX_MESSAGE_BYTES = 256 * 1024
const DOC = 'pending/doc'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const setup = async (): Promise<{
  relay: Relay
  honest: RawClient
  send: (m: Uint8Array) => void
  handled: (label: string) => Promise<void>
  closed: Promise<{ code: number }>
}> => {
  const relay = await new Relay({ region: 'eu', logLevel: 'silent', maxMessageBytes: MAX_MESSAGE_BYTES }).start()
  cleanups.push(() => relay.close())
  const honest = await connectRawClient(relay.url, DOC)
  cleanups.push(() => honest.close())
  const attacker = openAttacker(relay.url, `/${encodeURIComponent(DOC)}`)
  cleanups.push(() => attacker.ws.terminate())
  await withDeadline(attacker.firstMessage, DEADLINE_MS, 'the attacker to be attached')
  let marks = 0
  return {
    relay,
    honest,
    closed: attacker.closed,
    send: (m) => attacker.send(m),
    // A valid edit from the attacker after its other messages: once the
    // honest client has it, the relay handled everything sent before.
    handled: async (label) => {
      const mark = `${label}-${++marks}`
      attacker.send(encodeSyncUpdate(sampleUpdate((d) => d.getMap('marks').set(mark, true), 900_000 + marks)))
      await withDeadline(waitForDoc(honest.doc, () => honest.doc.getMap('marks').get(mark) === true), DEADLINE_MS, `marker ${mark}`)
    },
  }
}

describe('content the relay cannot integrate', () => {
  it('is not served to clients that join later', async () => {
    const { relay, send, handled } = await setup()
    send(encodeSyncUpdate(oneClientUpdate(777_001, 1000, [stringItem('parked past a gap')])))
    send(encodeSyncUpdate(bytes(0, 1, varUint(777_002), 1, 5, 3))) // deletes content nobody has
    await handled('gap')
    const late = await connectRawClient(relay.url, DOC)
    cleanups.push(() => late.close())
    await withDeadline(late.waitFor(() => late.messages.some((m) => m.type === 'sync-step2'), 'initial sync'), DEADLINE_MS, 'the late client to sync')
    expect(late.doc.store.pendingStructs, 'structs the relay never integrated, served to a new client').toBeNull()
    expect(late.doc.store.pendingDs, 'deletes of unknown content, served to a new client').toBeNull()
  })

  it('held by the relay stays within maxMessageBytes whatever one connection sends', async () => {
    const { relay, send, handled, closed } = await setup()
    const filler = 'x'.repeat(16 * 1024)
    for (let i = 0; i < 40; i++) send(encodeSyncUpdate(oneClientUpdate(800_000 + i, 1_000_000, [stringItem(filler)])))
    // Either the relay drops the content and keeps the connection, or it
    // closes the sender as invalid; both must leave it holding little.
    const outcome = await withDeadline(Promise.race([closed.then((c) => c.code), handled('flood').then(() => 0)]), DEADLINE_MS, 'the flood to be handled')
    if (outcome !== 0) expect(outcome).toBe(CloseCode.InvalidUpdate)
    const pending = relay.docs.peek(DOC)!.doc.store.pendingStructs
    const held = pending?.update.length ?? 0
    expect(held, `unintegrated bytes held after 40 × 16 KiB of gapped updates`).toBeLessThanOrEqual(MAX_MESSAGE_BYTES)
  })
})
