import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DurableTracker } from '../src/durability.js'

const setup = () => {
  const flips: boolean[] = []
  const tracker = new DurableTracker((d) => flips.push(d))
  const doc = new Y.Doc()
  doc.on('afterTransaction', (tr: Y.Transaction) => tracker.noteLocalTransaction(tr))
  return { tracker, doc, flips }
}

describe('DurableTracker', () => {
  it('is durable once an ack state vector covers every local insert', async () => {
    const { tracker, doc, flips } = setup()
    expect(tracker.durable).toBe(true)
    doc.getText('t').insert(0, 'abc')
    const waited = tracker.whenDurable()
    expect(flips).toEqual([false])
    tracker.noteAck(new Map([[doc.clientID, 2]]))
    expect(tracker.durable).toBe(false)
    tracker.noteAck(new Map([[doc.clientID, 3]]))
    await waited
    expect(flips).toEqual([false, true])
  })

  it('combines acks from different relays per client', () => {
    const { tracker, doc } = setup()
    const other = new Y.Doc()
    doc.getText('t').insert(0, 'ab')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))
    other.getText('t').insert(0, 'z')
    tracker.noteAck(new Map([[doc.clientID, 2]]))
    expect(tracker.durable).toBe(true)
    tracker.noteAck(new Map([[doc.clientID, 1]])) // an older ack from another relay does not undo it
    expect(tracker.durable).toBe(true)
  })

  it('a waiter covers what was local when it was created, not later edits', async () => {
    const { tracker, doc } = setup()
    doc.getText('t').insert(0, 'a')
    const first = tracker.whenDurable()
    doc.getText('t').insert(1, 'b')
    tracker.noteAck(new Map([[doc.clientID, 1]]))
    await first
    expect(tracker.durable).toBe(false)
  })

  it('deletion-only transactions wait for a proven generation', async () => {
    const { tracker, doc } = setup()
    doc.getText('t').insert(0, 'abc')
    tracker.noteAck(new Map([[doc.clientID, 3]]))
    expect(tracker.durable).toBe(true)
    doc.getText('t').delete(0, 1)
    expect(tracker.pendingDeleteGeneration).toBe(1)
    expect(tracker.durable).toBe(false)
    const waited = tracker.whenDurable()
    doc.getText('t').delete(0, 1)
    tracker.proveDeletes(1)
    await waited
    expect(tracker.durable).toBe(false) // the second deletion is generation 2
    tracker.proveDeletes(2)
    expect(tracker.durable).toBe(true)
  })

  it('a transaction that inserts and deletes is proven by its insert', () => {
    const { tracker, doc } = setup()
    doc.getText('t').insert(0, 'abc')
    doc.transact(() => {
      doc.getText('t').delete(0, 1)
      doc.getText('t').insert(0, 'x')
    })
    expect(tracker.pendingDeleteGeneration).toBeNull()
    tracker.noteAck(new Map([[doc.clientID, 4]]))
    expect(tracker.durable).toBe(true)
  })

  it('rejects waiters on destroy', async () => {
    const { tracker, doc } = setup()
    doc.getText('t').insert(0, 'a')
    const waited = tracker.whenDurable()
    tracker.destroy()
    await expect(waited).rejects.toMatchObject({ code: 'destroyed' })
    await expect(tracker.whenDurable()).rejects.toMatchObject({ code: 'destroyed' })
  })
})
