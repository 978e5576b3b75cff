/** The JSON body of GET /healthz. */
export interface HealthReport {
  status: 'ok' | 'degraded'
  region: string
  relayId: string
  loadedDocs: number
  /** Newest seq of this relay's change feed; a peer's cursor below it is what catch-up would send. */
  feedSeq: number
  connections: number
  storage: { healthy: boolean; durability: string; kind: 'leveldb' | 'memory' }
  peers: PeerHealth[]
}

export interface PeerHealth {
  region: string
  url: string | null
  state: 'connecting' | 'connected' | 'disconnected'
  relayId: string | null
  policyHashMatch: boolean | null
  lagMs: number | null
  backlogDocs: number
  backlogBytes: number
  /** Whether the peer's own link to us (its deltas to us) is up. */
  inboundConnected: boolean
  /** Highest local change-feed seq the peer has confirmed. */
  cursor: number | null
  counters: import('../mesh/peer-link.js').LinkCounters | null
}
