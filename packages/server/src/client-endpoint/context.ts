import type { Logger } from 'pino'
import type { ClientConnection } from './client-connection.js'

/** Limits enforced per client connection (defaults come from the relay options). */
export interface ClientLimits {
  maxMessageBytes: number
  maxPreAuthBytes: number
  rateLimitPerSecond: number
  rateLimitBurst: number
  maxBufferedBytes: number
  maxAwarenessIdsPerConnection: number
  awareness: { maxEntries: number; maxStateBytes: number }
}

/** What a client connection needs from its relay, and nothing more. */
export interface ClientEndpointContext {
  readonly region: string
  readonly relayId: string
  readonly logger: Logger
  readonly limits: ClientLimits
  regionsFor(docName: string): string[]
  /**
   * False once the relay's storage failed: no durable barrier is answered
   * after that (storage failure also closes every client connection; this
   * closes the gap between the store failing and the relay noticing).
   */
  healthy(): boolean
  onConnectionGone(conn: ClientConnection): void
  onClosedByRelay?(code: number): void
  onReadOnlyWrite?(): void
}
