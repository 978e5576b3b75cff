/**
 * Every update applied to a relay's Y.Doc carries one of these as its Yjs
 * transaction origin. Fan-out and gossip read it to decide where an update
 * may go next, which is what keeps gossip from echoing.
 */
export interface ClientOrigin {
  readonly kind: 'client'
  readonly connectionId: number
}
export interface PeerOrigin {
  readonly kind: 'peer'
  /** Region of the relay that sent it to us. */
  readonly fromRegion: string
  /** Region where the update was first accepted. */
  readonly originRegion: string
  /** Wall-clock ms when the origin relay accepted it (for lag metrics). */
  readonly originTime: number
}
export interface StorageOrigin {
  readonly kind: 'storage'
}
export type UpdateOrigin = ClientOrigin | PeerOrigin | StorageOrigin

export const STORAGE_ORIGIN: StorageOrigin = Object.freeze({ kind: 'storage' })

export const isUpdateOrigin = (value: unknown): value is UpdateOrigin =>
  typeof value === 'object' && value !== null && 'kind' in value &&
  ((value as UpdateOrigin).kind === 'client' || (value as UpdateOrigin).kind === 'peer' || (value as UpdateOrigin).kind === 'storage')
