/**
 * Anti-entropy digests. Each document both relays may hold gets a hash of
 * its state vector and delete set (Y.snapshot), so a missing insert and a
 * missing delete both show; documents fall into fixed buckets, and only
 * buckets whose hashes differ are compared document by document.
 *
 * Cost: building the index reads every such document (loaded ones from
 * memory, others from storage), so digests run rarely (digestIntervalMs);
 * catch-up from the change feed is what keeps ordinary repair cheap.
 */
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { digestBucketOf, encodeDigestBucket, PEER_DIGEST_BUCKETS, type DigestEntry } from '@meridian/core'
import type { MeshContext } from './mesh-context.js'

const hashDoc = (doc: Y.Doc): Uint8Array =>
  new Uint8Array(createHash('sha256').update(Y.encodeSnapshot(Y.snapshot(doc))).digest().subarray(0, 16))

export class DigestIndex {
  private constructor(private readonly buckets: DigestEntry[][]) {}

  static async build(ctx: MeshContext, peerRegion: string): Promise<DigestIndex> {
    const buckets: DigestEntry[][] = Array.from({ length: PEER_DIGEST_BUCKETS }, () => [])
    for await (const name of ctx.store.listDocs()) {
      if (!ctx.policy.allows(name, peerRegion) || !ctx.policy.allows(name, ctx.region)) continue
      const live = ctx.docs.peek(name)
      let hash: Uint8Array
      if (live) hash = hashDoc(live.doc)
      else {
        const stored = await ctx.store.loadDoc(name)
        const scratch = new Y.Doc()
        if (stored?.snapshot) Y.applyUpdate(scratch, stored.snapshot)
        for (const u of stored?.log ?? []) Y.applyUpdate(scratch, u)
        hash = hashDoc(scratch)
        scratch.destroy()
      }
      buckets[digestBucketOf(name)]!.push({ doc: name, hash })
    }
    for (const b of buckets) b.sort((x, y) => (x.doc < y.doc ? -1 : x.doc > y.doc ? 1 : 0))
    return new DigestIndex(buckets)
  }

  entries(bucket: number): DigestEntry[] {
    return this.buckets[bucket] ?? []
  }

  bucketHashes(): Uint8Array[] {
    return this.buckets.map((entries) => {
      const h = createHash('sha256')
      for (const e of entries) h.update(e.doc).update('\0').update(e.hash)
      return new Uint8Array(h.digest().subarray(0, 8))
    })
  }
}

const equalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => {
  if (!a || !b || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The acceptor's answer to a digest: its entries for every bucket whose hash differs. */
export const differingBuckets = async (ctx: MeshContext, peerRegion: string, theirBuckets: readonly Uint8Array[]): Promise<Uint8Array[]> => {
  const index = await DigestIndex.build(ctx, peerRegion)
  const mine = index.bucketHashes()
  const replies: Uint8Array[] = []
  for (let i = 0; i < mine.length; i++) if (!equalBytes(mine[i], theirBuckets[i])) replies.push(encodeDigestBucket(i, index.entries(i)))
  return replies
}

/** Documents of a bucket that differ or exist on one side only, and that both regions may hold. */
export const docsToRepair = (ctx: MeshContext, peerRegion: string, index: DigestIndex, bucket: number, theirs: readonly DigestEntry[]): string[] => {
  const mine = new Map(index.entries(bucket).map((e) => [e.doc, e.hash]))
  const differing = new Set<string>()
  for (const { doc, hash } of theirs) if (digestBucketOf(doc) === bucket && !equalBytes(mine.get(doc), hash)) differing.add(doc)
  const theirDocs = new Set(theirs.map((t) => t.doc))
  for (const doc of mine.keys()) if (!theirDocs.has(doc)) differing.add(doc)
  const allowed = [...differing].filter((doc) => ctx.policy.allows(doc, peerRegion) && ctx.policy.allows(doc, ctx.region))
  if (allowed.length > 0) ctx.logger.info({ peer: peerRegion, bucket, docs: allowed.length }, 'anti-entropy repair')
  return allowed
}
