/**
 * The Y.Doc a relay keeps per loaded document (and the small Yjs helpers its
 * documents share: merging a turn, measuring held-back content), built to
 * cost as little heap as Yjs allows: a relay holds one for every document in
 * use, and Y.Doc's defaults are made for editors, not for a server holding
 * thousands.
 *
 * - Its guid is the document name (no random uuid string per doc).
 * - One shared gcFilter instead of a fresh closure per doc.
 * - The `load` and `sync` listeners the constructor registers (for
 *   `whenLoaded`/`whenSynced`, provider-side promises a relay never awaits)
 *   are removed: about 0.9 KB per document. This reaches into lib0's
 *   Observable (`_observers`); packages/server/test/docs/relay-doc.test.ts fails if a Yjs upgrade
 *   changes that.
 * - `meta` points back at the LiveDoc, so the `update` handler is one shared
 *   function rather than a closure per document.
 */
import * as Y from 'yjs'
import { DEFAULT_FAN_IN, UpdateCoalescer } from '@meridian/core'
import type { LiveDoc } from './live-doc.js'

const collectEverything = (): boolean => true

interface ObserverMap {
  _observers?: Map<string, unknown>
}

export const createRelayDoc = (live: LiveDoc): Y.Doc => {
  const doc = new Y.Doc({ gc: true, guid: live.name, gcFilter: collectEverything, meta: live })
  const observers = (doc as unknown as ObserverMap)._observers
  observers?.delete('load')
  observers?.delete('sync')
  return doc
}

/** The LiveDoc a relay Y.Doc belongs to. */
export const liveDocOf = (doc: Y.Doc): LiveDoc | undefined => doc.meta as LiveDoc | undefined

/** One turn's updates as one; a long turn goes through the coalescer, whose cost stays linear. */
export const mergeTurn = (updates: Uint8Array[]): Uint8Array => {
  if (updates.length === 1) return updates[0]!
  if (updates.length <= DEFAULT_FAN_IN) return Y.mergeUpdates(updates)
  const coalescer = new UpdateCoalescer()
  for (const u of updates) coalescer.push(u)
  return coalescer.take()!
}

/** Bytes Yjs holds back for a document (updates whose dependencies are missing). */
export const heldBackBytes = (store: Y.Doc['store']): number => (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0)
