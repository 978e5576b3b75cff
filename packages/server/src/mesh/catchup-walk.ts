/**
 * The documents a catch-up offers a peer: every document the change feed
 * recorded after the peer's cursor that the peer's region may hold, each
 * once, offered as `sync-step1(doc, state vector)` a page at a time. Cost
 * follows what changed since the cursor, not the number of documents.
 */
import * as Y from 'yjs'
import { encodePeerSyncStep1 } from '@meridian/core'
import type { MeshContext } from './mesh-context.js'

const FEED_PAGE = 500

/**
 * Walks the feed after `cursor`, handing each page's step-1 messages to
 * `send` and each offered document to `offered`. Returns the number of
 * documents offered, or null when `stopped()` turned true on the way.
 */
export const walkFeed = async (
  ctx: MeshContext,
  peerRegion: string,
  cursor: number,
  send: (step1s: Uint8Array[]) => void,
  offered: (doc: string) => void,
  stopped: () => boolean,
): Promise<number | null> => {
  const seen = new Set<string>()
  let after = cursor
  let docs = 0
  for (;;) {
    const page = await ctx.store.readFeed(after, FEED_PAGE)
    if (stopped()) return null
    if (page.length === 0) return docs
    const step1s: Uint8Array[] = []
    for (const entry of page) {
      after = entry.seq
      if (seen.has(entry.doc) || !ctx.policy.allows(entry.doc, peerRegion)) continue
      seen.add(entry.doc)
      const live = await ctx.docs.acquire(entry.doc)
      if (stopped()) return null
      offered(entry.doc)
      step1s.push(encodePeerSyncStep1(entry.doc, Y.encodeStateVector(live.doc)))
    }
    docs += step1s.length
    send(step1s)
  }
}
