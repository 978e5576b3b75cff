/**
 * The relay's lean Y.Doc relies on Yjs internals (see relay-doc.ts): this
 * fails if an upgrade moves them, before the memory savings silently vanish
 * or, worse, the document stops reporting updates.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LiveDoc } from '../../src/docs/live-doc.js'
import { liveDocOf } from '../../src/docs/relay-doc.js'

const hooks = { persist: async () => 1, onEffectiveUpdate: () => {}, encodeDurableAck: () => null, onPersistError: () => {} }

describe('relay Y.Doc', () => {
  it('keeps no load/sync listeners, names itself after the document and points back at its LiveDoc', () => {
    const live = new LiveDoc('notes/42', hooks)
    const observers = (live.doc as unknown as { _observers: Map<string, unknown> })._observers
    expect(observers).toBeInstanceOf(Map)
    expect(observers.has('load')).toBe(false)
    expect(observers.has('sync')).toBe(false)
    expect(observers.has('update')).toBe(true)
    expect(live.doc.guid).toBe('notes/42')
    expect(liveDocOf(live.doc)).toBe(live)
    live.destroy()
  })

  it('still reports every effective update to its LiveDoc', () => {
    const seen: Uint8Array[] = []
    const live = new LiveDoc('d', { ...hooks, onEffectiveUpdate: (_d, u) => void seen.push(u) })
    const src = new Y.Doc()
    src.getText('t').insert(0, 'hi')
    live.apply(Y.encodeStateAsUpdate(src), { kind: 'client', connectionId: 1 })
    live.apply(Y.encodeStateAsUpdate(src), { kind: 'client', connectionId: 1 })
    expect(seen).toHaveLength(1)
    live.destroy()
  })
})
