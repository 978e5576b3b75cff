/**
 * What must hold once the network heals: every replica allowed to hold a
 * document (relays, from their stores, and clients) is equal in content and
 * state vector with nothing pending; every update a relay acknowledged as
 * durable is present everywhere (counted like Jepsen's set checker:
 * attempted / acknowledged / present / lost); no document ever reached a
 * region outside its placement.
 */
import * as Y from 'yjs'
import type { SimCluster } from './sim-cluster.js'
import { fingerprint } from './sim-client.js'

export interface CheckResult {
  divergences: string[]
  attempted: number
  acknowledged: number
  lost: number
  residencyViolations: string[]
}

/** Loads a document from a relay's store into a fresh Y.Doc (null if absent). */
const fromStore = async (cluster: SimCluster, region: string, doc: string): Promise<Y.Doc | null> => {
  const relay = cluster.slot(region).relay!
  const stored = await relay.store.loadDoc(doc)
  if (!stored) return null
  const ydoc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(ydoc, stored.snapshot)
  for (const u of stored.log) Y.applyUpdate(ydoc, u)
  return ydoc
}

const pending = (doc: Y.Doc): boolean => doc.store.pendingStructs !== null || doc.store.pendingDs !== null

export const checkResidency = (cluster: SimCluster, seen: string[]): void => {
  for (const slot of cluster.slots) {
    for (const doc of new Set(cluster.clients.map((c) => c.docName))) {
      const policy = slot.relay?.options.policy
      if (!policy || policy.allows(doc, slot.region)) continue
      if (slot.volume.docs.has(doc) || slot.relay?.docs.peek(doc)) seen.push(`${doc} reached ${slot.region}`)
    }
  }
}

export const checkConverged = async (cluster: SimCluster): Promise<CheckResult> => {
  const result: CheckResult = { divergences: [], attempted: 0, acknowledged: 0, lost: 0, residencyViolations: [] }
  checkResidency(cluster, result.residencyViolations)
  const docs = new Set(cluster.clients.map((c) => c.docName))
  for (const doc of docs) {
    const replicas: { who: string; ydoc: Y.Doc }[] = []
    for (const slot of cluster.slots) {
      if (!slot.relay!.options.policy.allows(doc, slot.region)) continue
      const ydoc = await fromStore(cluster, slot.region, doc)
      replicas.push({ who: `relay ${slot.region}`, ydoc: ydoc ?? new Y.Doc() })
    }
    for (const c of cluster.clients.filter((c) => c.docName === doc)) replicas.push({ who: `client ${c.name}`, ydoc: c.doc })
    const prints = replicas.map((r) => fingerprint(r.ydoc))
    const reference = prints[0]
    replicas.forEach((r, i) => {
      if (pending(r.ydoc)) result.divergences.push(`${doc}: ${r.who} has pending structs`)
      if (prints[i] !== reference) result.divergences.push(`${doc}: ${r.who} differs from ${replicas[0]!.who}\n  ${prints[i]}\n  ${reference}`)
    })
    for (const c of cluster.clients.filter((c) => c.docName === doc)) {
      result.attempted += c.ownClock
      result.acknowledged += c.ackedClock
      const present = Math.min(...replicas.map((r) => Y.getState(r.ydoc.store, c.clientId)))
      result.lost += Math.max(0, c.ackedClock - present)
    }
  }
  return result
}
