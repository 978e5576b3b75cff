/**
 * The per-peer cursor, persisted in the store's metadata. It is only valid
 * for the same peer relay (a wiped peer comes back with a new relay id) and
 * the same policy (a widened policy must resend what was held back), so both
 * are stored with it; a mismatch means "start from 0".
 */
import type { DocStore } from '../storage/doc-store.js'

const keyOf = (region: string): string => `cursor/${region}`

interface StoredCursor {
  relayId: string
  policyHash: string
  seq: number
}

export const loadCursor = async (store: DocStore, region: string, relayId: string, policyHash: string): Promise<number> => {
  const raw = await store.getMeta(keyOf(region))
  if (!raw) return 0
  try {
    const c = JSON.parse(new TextDecoder().decode(raw)) as StoredCursor
    return c.relayId === relayId && c.policyHash === policyHash && Number.isSafeInteger(c.seq) && c.seq >= 0 ? c.seq : 0
  } catch {
    return 0
  }
}

export const saveCursor = (store: DocStore, region: string, relayId: string, policyHash: string, seq: number): Promise<void> =>
  store.putMeta(keyOf(region), new TextEncoder().encode(JSON.stringify({ relayId, policyHash, seq } satisfies StoredCursor)))

export const resetCursor = (store: DocStore, region: string): Promise<void> => store.putMeta(keyOf(region), new TextEncoder().encode('{}'))
