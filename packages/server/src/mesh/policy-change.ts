/**
 * When a relay starts with a different policy than last time: documents its
 * region may no longer hold are removed from its store (narrowing), and the
 * per-peer cursors, which are tied to the policy hash, restart from zero so
 * that documents newly allowed elsewhere are sent there (widening).
 */
import type { Logger } from 'pino'
import type { ReplicationPolicy } from '@meridian/core'
import type { DocStore } from '../storage/doc-store.js'
import type { AuditLog } from './audit-log.js'

const POLICY_HASH_KEY = 'policy-hash'

export const applyPolicyChange = async (
  store: DocStore,
  policy: ReplicationPolicy,
  region: string,
  audit: AuditLog,
  logger: Logger,
): Promise<{ changed: boolean; removed: number }> => {
  const stored = await store.getMeta(POLICY_HASH_KEY)
  const previous = stored ? new TextDecoder().decode(stored) : null
  if (previous === policy.hash) return { changed: false, removed: 0 }
  let removed = 0
  if (previous !== null) {
    const doomed: string[] = []
    for await (const doc of store.listDocs()) if (!policy.allows(doc, region)) doomed.push(doc)
    for (const doc of doomed) {
      await store.deleteDoc(doc)
      audit.record({ kind: 'doc-removed-by-policy', doc, detail: `region ${region} is no longer in its placement` })
      removed++
    }
    logger.info({ previous, current: policy.hash, removed }, 'replication policy changed')
  }
  await store.putMeta(POLICY_HASH_KEY, new TextEncoder().encode(policy.hash))
  return { changed: true, removed }
}
