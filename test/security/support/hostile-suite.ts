/**
 * Runs a list of hostile cases against one relay data directory, one after
 * another, and after each checks the invariants of the "hostile input"
 * contract: the offender got the expected close code, the relay still
 * answers /healthz with 200, an honest pair on the attacked document still
 * syncs both ways, neither memory nor storage holds anything the attack
 * brought in, and a relay restarted on the same data directory loads every
 * stored document cleanly and serves the shared one to a fresh honest pair.
 * The next case then runs against that restarted relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { closeCodeName } from '@meridian/core'
import { LevelDocStore, Relay, type RelayOptionsInput } from '@meridian/server'
import { connectRawClient, type RawClient } from '../../support/raw-client.js'
import { makeTempDir } from '../../support/temp-dir.js'
import { waitForDoc } from '../../support/wait.js'
import { openAttacker, type Attacker, type CloseInfo } from './attacker.js'
import { DEADLINE_MS, withDeadline } from './deadline.js'
import { GatedStore } from '../../support/gated-store.js'
import type { RawClose } from './raw-ws.js'
import { checkEveryStoredDoc, clientsOf, healthzStatus, isSettled, loadStoredDoc } from './stored.js'

/** The document the honest pair edits and most attacks target. */
export const SHARED_DOC = 'shared/doc'

export interface CaseContext {
  relay: Relay
  url: string
  port: number
  store: GatedStore
  honest: { a: RawClient; b: RawClient }
  /** Opens an attacker on `path` (default: the shared document). */
  attacker(path?: string): Attacker
}

export type Frame = Uint8Array | string

export interface HostileCase {
  name: string
  /** Close code the offending connection must receive. */
  expect: number
  /** What the close reason must say (the relay names the broken field). */
  reason?: RegExp
  /** Frames sent, in order, once the relay attached the attacker to the shared document. */
  frames?: (ctx: CaseContext) => Frame[]
  /** A custom attack instead of `frames`; resolves with the offender's close. */
  attack?: (ctx: CaseContext) => Promise<CloseInfo | RawClose>
  /** Checks beyond the common ones, after them. */
  verify?: (ctx: CaseContext) => Promise<void> | void
}

const sendFramesAttack = async (ctx: CaseContext, frames: Frame[]): Promise<CloseInfo> => {
  const attacker = ctx.attacker()
  // Wait until the relay attached us (its sync-step1 arrived) so the frames
  // take the post-load path; the pre-load buffer has cases of its own.
  await withDeadline(attacker.firstMessage, DEADLINE_MS, 'the relay to attach the attacker')
  for (const frame of frames) attacker.send(frame)
  return withDeadline(attacker.closed, DEADLINE_MS, 'the relay to close the offender')
}

let editCounter = 0

/** One edit each way through the relay; proves the honest pair is served. */
export const honestPairSyncs = async (a: RawClient, b: RawClient, label: string): Promise<void> => {
  const mark = `<${label}#${++editCounter}>`
  const text = a.doc.getText('t')
  text.insert(text.length, mark)
  await withDeadline(waitForDoc(b.doc, () => b.doc.getText('t').toString().includes(mark)), DEADLINE_MS, `the honest edit ${mark} to reach b`)
  b.doc.getMap('m').set(mark, editCounter)
  await withDeadline(waitForDoc(a.doc, () => a.doc.getMap('m').get(mark) === editCounter), DEADLINE_MS, `the honest edit ${mark} to reach a`)
}

export interface SuiteOptions {
  /** Relay options beyond region, logging and the data directory. */
  relay?: Partial<RelayOptionsInput>
  cases: HostileCase[]
  /** Runs once the honest pair is synced, before the first case. */
  setup?: (ctx: CaseContext) => Promise<void>
  /** More tests, registered after the cases and before the restart check. */
  extra?: (ctx: () => CaseContext) => void
}

export const hostileSuite = (title: string, options: SuiteOptions): void => {
  const names = new Set<string>()
  for (const c of options.cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`)
    if (!c.frames === !c.attack) throw new Error(`case ${c.name}: give exactly one of frames or attack`)
    names.add(c.name)
  }

  describe(title, () => {
    let ctx: CaseContext
    let dataDir: { path: string; remove: () => Promise<void> }
    const attackers: Attacker[] = []
    const relayOptions = (): RelayOptionsInput => ({ region: 'eu', logLevel: 'silent', dataDir: dataDir.path, durability: 'buffered', ...options.relay })

    /** A relay on the suite's data directory with a synced honest pair on the shared document. */
    const startServing = async (): Promise<CaseContext> => {
      const store = new GatedStore(new LevelDocStore(dataDir.path, { durability: 'buffered' }))
      const relay = await new Relay(relayOptions(), { store }).start()
      const a = await connectRawClient(relay.url, SHARED_DOC)
      const b = await connectRawClient(relay.url, SHARED_DOC)
      const synced = (c: RawClient): Promise<void> => c.waitFor(() => c.messages.some((m) => m.type === 'sync-step2'), 'initial sync')
      await withDeadline(Promise.all([synced(a), synced(b)]), DEADLINE_MS, 'the honest pair to sync')
      const next: CaseContext = {
        relay,
        url: relay.url,
        port: relay.port,
        store,
        honest: { a, b },
        attacker: (path = `/${encodeURIComponent(SHARED_DOC)}`) => {
          const attacker = openAttacker(relay.url, path)
          attackers.push(attacker)
          return attacker
        },
      }
      await options.setup?.(next)
      return next
    }

    /** Idempotent (relay and client close are), so afterAll may repeat it. */
    const stopServing = async (): Promise<void> => {
      for (const a of attackers.splice(0)) a.ws.terminate()
      await ctx.honest.a.close()
      await ctx.honest.b.close()
      // A case may have left a load held at its gate; close() waits for loads.
      ctx.store.releaseAll()
      await ctx.relay.close()
    }

    /**
     * The "a restart loads every document cleanly" half of the contract,
     * after every case rather than once per file, so a failure names the
     * case that stored something bad. Every stored document is replayed part
     * by part into a fresh Y.Doc (the relay's own loader logs and skips a
     * part that throws, so it would hide exactly what this looks for), and
     * the restarted relay must serve the shared document, unchanged, to a
     * new honest pair. `ctx` is updated in place: cases and `extra` tests
     * read it when they run, so they see the restarted relay.
     */
    const restartAndCheck = async (): Promise<void> => {
      const expected = ctx.honest.a.doc.getText('t').toString()
      await stopServing()
      Object.assign(ctx, await startServing())
      const stored = await checkEveryStoredDoc(ctx.relay.store)
      expect(stored, 'documents stored after the restart').toContain(SHARED_DOC)
      for (const c of [ctx.honest.a, ctx.honest.b]) {
        expect(c.doc.getText('t').toString(), 'the shared document as the restarted relay serves it').toBe(expected)
        expect(isSettled(c.doc), 'the restarted relay served pending structs or deletes').toBe(true)
      }
      expect(isSettled(ctx.relay.docs.peek(SHARED_DOC)!.doc), 'the restarted relay holds pending structs or deletes').toBe(true)
    }

    beforeAll(async () => {
      dataDir = await makeTempDir('meridian-security-')
      ctx = await startServing()
    })

    afterAll(async () => {
      if (ctx) await stopServing()
      await dataDir?.remove()
    })

    for (const c of options.cases) {
      it(`${c.name} → ${c.expect} ${closeCodeName(c.expect) ?? ''}`.trim(), async () => {
        const { relay, honest } = ctx
        const live = relay.docs.peek(SHARED_DOC)
        expect(live, 'the shared document is loaded while the honest pair is connected').toBeDefined()
        const clientsBefore = clientsOf(live!.doc)

        const close = c.attack ? await c.attack(ctx) : await sendFramesAttack(ctx, c.frames!(ctx))
        expect(close.code, `close reason: ${close.reason}`).toBe(c.expect)
        if (c.reason) expect(close.reason).toMatch(c.reason)

        expect(await healthzStatus(ctx.port)).toBe(200)
        expect(honest.a.ws.readyState, 'honest client a still connected').toBe(WebSocket.OPEN)
        expect(honest.b.ws.readyState, 'honest client b still connected').toBe(WebSocket.OPEN)
        await honestPairSyncs(honest.a, honest.b, c.name)

        // Nothing the attack sent is held by the relay: no new authors beyond
        // the honest pair, and nothing half-integrated.
        const honestIds = new Set([honest.a.doc.clientID, honest.b.doc.clientID])
        const newAuthors = [...clientsOf(live!.doc)].filter((id) => !clientsBefore.has(id) && !honestIds.has(id))
        expect(newAuthors, 'struct authors the attack added to the relay document').toEqual([])
        expect(isSettled(live!.doc), 'relay document has pending structs or deletes').toBe(true)

        await relay.flush()
        const stored = await loadStoredDoc(relay.store, SHARED_DOC)
        expect(stored).not.toBeNull()
        expect(isSettled(stored!)).toBe(true)
        expect(stored!.getText('t').toString()).toBe(honest.a.doc.getText('t').toString())
        stored!.destroy()

        await c.verify?.(ctx)
        await restartAndCheck()
      })
    }

    options.extra?.(() => ctx)

    it('after every case, a relay restarted without the test store loads every stored document cleanly', async () => {
      const expected = ctx.honest.a.doc.getText('t').toString()
      await stopServing()
      // The relay's own LevelDB store, as in production (the cases ran on a GatedStore wrapper).
      const restarted = await new Relay(relayOptions()).start()
      try {
        const stored = await checkEveryStoredDoc(restarted.store)
        expect(stored).toContain(SHARED_DOC)
        const reader = await connectRawClient(restarted.url, SHARED_DOC)
        await withDeadline(waitForDoc(reader.doc, () => reader.doc.getText('t').toString() === expected), DEADLINE_MS, 'the restarted relay to serve the document')
        expect(isSettled(reader.doc)).toBe(true)
        await reader.close()
      } finally {
        await restarted.close()
      }
    })
  })
}

/** A fresh Y.Doc's update, for cases that need real bytes to mangle. */
export const sampleUpdate = (build: (doc: Y.Doc) => void, clientID = 424242): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  build(doc)
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return update
}
