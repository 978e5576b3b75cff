/**
 * Residency at the peer edge, and applying what a peer sends: a document is
 * accepted from a peer only if this region may hold it, and answered to a
 * peer only if the peer's region may; every refusal is counted, audited and
 * answered with `refused` (so the frame can still be acked).
 */
import { encodeRefused, tryDecode, validateUpdate } from '@meridian/core'
import type { LiveDoc } from '../docs/live-doc.js'
import type { PeerOrigin } from '../docs/origin.js'
import type { AuditEvent } from './audit-log.js'
import type { MeshContext } from './mesh-context.js'

/** Whether `region` may hold `doc`; if not, the refusal is counted, audited (as `kind`) and queued in `replies`. */
export const regionMayHold = (
  ctx: MeshContext,
  peerRegion: string,
  doc: string,
  region: string,
  kind: Extract<AuditEvent['kind'], 'peer-sent-disallowed-doc' | 'peer-requested-disallowed-doc'>,
  replies: Uint8Array[],
): boolean => {
  if (ctx.policy.allows(doc, region)) return true
  ctx.observer.policyDenied?.(peerRegion)
  ctx.audit.record({ kind, doc, peerRegion })
  replies.push(encodeRefused(doc, `region ${region} may not hold this document`))
  return false
}

/** Validates and applies a peer's update to `doc`, noting the document in `touched` (its write is acked once durable). */
export const applyFromPeer = async (
  ctx: MeshContext,
  peerRegion: string,
  doc: string,
  update: Uint8Array,
  origin: PeerOrigin,
  touched: Set<LiveDoc>,
  replies: Uint8Array[],
): Promise<void> => {
  if (!regionMayHold(ctx, peerRegion, doc, ctx.region, 'peer-sent-disallowed-doc', replies)) return
  const valid = tryDecode(() => validateUpdate(update, { maxBytes: ctx.maxMessageBytes }))
  if (!valid.ok) throw valid.error
  const live = await ctx.docs.acquire(doc)
  // A document being reloaded refuses updates; the link reconnects and catch-up resends.
  if (live.isStale) throw new Error(`document ${doc} is being reloaded`)
  const before = live.effectiveUpdates
  live.apply(update.slice(), origin)
  if (live.effectiveUpdates === before) ctx.observer.deltaNotForwarded?.('no-change')
  touched.add(live)
}
