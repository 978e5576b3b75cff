/** Events a MeridianProvider emits; see docs/client.md for when each fires. */
export type ProviderStatus = 'connecting' | 'connected' | 'synced' | 'offline'

export interface StatusEvent {
  status: ProviderStatus
  /** Region being connected to or connected to; null when offline. */
  region: string | null
}

export type RegionChangeReason =
  | 'initial' // first connection
  | 'failover' // the region failed repeatedly
  | 'storage-unavailable' // the region's relay refused service (4011)
  | 'wrong-region' // the document's policy keeps it out of the region (4004)
  | 'preferred-healthy' // a better region is healthy again

export interface RegionChangeEvent {
  from: string | null
  to: string
  reason: RegionChangeReason
}

export interface RegionHealthEvent {
  region: string
  healthy: boolean
  rttMs: number | null
}

export interface ConnectionCloseEvent {
  region: string
  code: number
  reason: string
}

export interface RelayInfoEvent {
  region: string
  relayId: string
  /** Regions the document's policy allows (`*`: all). */
  regions: string[]
}

export type MeridianProviderEvents = {
  status: (event: StatusEvent) => void
  /** y-websocket's names for the same thing: true once synced with a relay, false when the connection drops. */
  sync: (synced: boolean) => void
  synced: (synced: boolean) => void
  /** true when every local change so far is on a relay's disk ("saved"), false as soon as one is not. */
  durable: (durable: boolean) => void
  'region-change': (event: RegionChangeEvent) => void
  'region-health': (event: RegionHealthEvent) => void
  'relay-info': (event: RelayInfoEvent) => void
  'connection-close': (event: ConnectionCloseEvent) => void
  error: (err: Error) => void
}
