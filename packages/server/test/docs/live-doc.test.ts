import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeClientMessage, decodeStateVectorSafe } from '@meridian/core'
import { LiveDoc, type DocConnection, type LiveDocHooks } from '../../src/docs/live-doc.js'
import type { UpdateOrigin } from '../../src/docs/origin.js'

const fakeConnection = (id: number, wantsDurableAcks = false): DocConnection & { sent: Uint8Array[] } => {
  const sent: Uint8Array[] = []
  return { id, wantsDurableAcks, sent, send: (m) => void sent.push(m), close: () => {} }
}

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

const makeDoc = (persist: LiveDocHooks['persist'] = async () => 1) => {
  const effective: { update: Uint8Array; origin: UpdateOrigin }[] = []
  const persisted: Uint8Array[] = []
  const live = new LiveDoc('d', {
    persist: (doc, u) => {
      persisted.push(u)
      return persist(doc, u)
    },
    onEffectiveUpdate: (_d, update, origin) => void effective.push({ update, origin }),
    encodeDurableAck: (sv) => Uint8Array.from([101, ...sv]),
    onPersistError: () => {},
    onIdle: () => {},
  })
  return { live, effective, persisted }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r))

const updatesFrom = (n: number): Uint8Array[] => {
  const src = new Y.Doc()
  const out: Uint8Array[] = []
  src.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < n; i++) src.getText('t').insert(i, String(i % 10))
  return out
}

describe('LiveDoc fan-out', () => {
  it('merges one turn of updates into one message, the same buffer for every connection', async () => {
    const { live, persisted } = makeDoc()
    const a = fakeConnection(1)
    const b = fakeConnection(2)
    const c = fakeConnection(3)
    for (const conn of [a, b, c]) live.addConnection(conn)
    const origin = { kind: 'peer', fromRegion: 'us', originRegion: 'us', originTime: 0 } as const
    for (const u of updatesFrom(5)) live.apply(u, origin)
    expect(a.sent).toHaveLength(0) // nothing before the turn ends
    await nextTurn()
    expect(a.sent).toHaveLength(1)
    expect(b.sent[0]).toBe(a.sent[0])
    expect(c.sent[0]).toBe(a.sent[0])
    expect(persisted).toHaveLength(1)
    const msg = decodeClientMessage(a.sent[0]!)
    expect(msg.type).toBe('sync-update')
    const check = new Y.Doc()
    Y.applyUpdate(check, (msg as { update: Uint8Array }).update)
    expect(check.getText('t').toString()).toBe('01234')
    live.destroy()
  })

  it('does not send a lone sender its own updates back', async () => {
    const { live } = makeDoc()
    const a = fakeConnection(1)
    const b = fakeConnection(2)
    live.addConnection(a)
    live.addConnection(b)
    for (const u of updatesFrom(3)) live.apply(u, { kind: 'client', connectionId: 1 })
    await nextTurn()
    expect(a.sent).toHaveLength(0)
    expect(b.sent).toHaveLength(1)
    live.destroy()
  })

  it('reports only updates that changed the document, with their origin', async () => {
    const { live, effective } = makeDoc()
    const [u] = updatesFrom(1)
    live.apply(u!, { kind: 'client', connectionId: 7 })
    live.apply(u!, { kind: 'client', connectionId: 8 }) // a duplicate adds nothing
    expect(effective).toHaveLength(1)
    expect(effective[0]!.origin).toEqual({ kind: 'client', connectionId: 7 })
    live.destroy()
  })

  it('acks durability only after persistence resolves, with the state vector of the persisted turn', async () => {
    const gate = deferred()
    const { live } = makeDoc(() => gate.promise)
    const a = fakeConnection(1, true)
    const stock = fakeConnection(2, false)
    live.addConnection(a)
    live.addConnection(stock)
    const updates = updatesFrom(2)
    live.apply(updates[0]!, { kind: 'client', connectionId: 1 })
    await nextTurn()
    const svAtTurn = Y.encodeStateVector(live.doc)
    live.apply(updates[1]!, { kind: 'client', connectionId: 1 })
    expect(a.sent.filter((m) => m[0] === 101)).toHaveLength(0)
    gate.resolve()
    await gate.promise
    await Promise.resolve()
    const acks = a.sent.filter((m) => m[0] === 101)
    expect(acks).toHaveLength(1)
    // The ack covers the persisted turn, not the update applied after it.
    expect(decodeStateVectorSafe(acks[0]!.subarray(1))).toEqual(decodeStateVectorSafe(svAtTurn))
    expect(stock.sent.some((m) => m[0] === 101)).toBe(false)
    live.destroy()
  })

  it('hands a pending turn to persistence when destroyed', () => {
    const { live, persisted } = makeDoc()
    for (const u of updatesFrom(2)) live.apply(u, { kind: 'client', connectionId: 1 })
    live.destroy()
    expect(persisted).toHaveLength(1)
  })
})
