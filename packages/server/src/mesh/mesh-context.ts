import type { Logger } from 'pino'
import type { ReplicationPolicy } from '@meridian/core'
import type { DocRegistry } from '../docs/doc-registry.js'
import type { DocStore } from '../storage/doc-store.js'
import type { GroupCommitter } from '../storage/group-commit.js'
import type { AuditLog } from './audit-log.js'

/** Observations the mesh reports; metrics implement them. All optional. */
export interface MeshObserver {
  replicationLag?(fromRegion: string, originRegion: string, lagMs: number): void
  deltaNotForwarded?(reason: 'no-change' | 'policy' | 'origin'): void
  policyDenied?(peerRegion: string): void
  /**
   * One catch-up this relay drove toward a peer: the documents it covered
   * and, when known, the bytes it cost on the link (both directions).
   */
  catchupRun?(peerRegion: string, docs: number, bytes?: number): void
  /**
   * This relay closed a peer link because of what the peer sent (a frame
   * or update that does not decode or validate); `code` is the close code.
   */
  peerHostileInput?(peerRegion: string, code: number): void
}

/** What a peer session needs from its relay. */
export interface MeshContext {
  readonly region: string
  readonly relayId: string
  readonly policy: ReplicationPolicy
  readonly docs: DocRegistry
  readonly store: DocStore
  readonly committer: GroupCommitter
  readonly logger: Logger
  readonly audit: AuditLog
  readonly observer: MeshObserver
  readonly maxMessageBytes: number
  /** Send-buffer level above which queued deltas wait (they keep coalescing). */
  readonly highWaterBytes: number
  /** Send frames in the link stream, deflated against the link's dictionary. */
  readonly linkStream: boolean
  readonly digestIntervalMs: number
  /** Quiet time after an unsent change before the cursor follows the feed (see PeerSession.noteUnsentChange). */
  readonly cursorFollowMs: number
  /** A peer that has not completed the hello this long after connecting is dropped. */
  readonly helloTimeoutMs: number
  /** A frame unacknowledged (or a catch-up unfinished) this long closes the link. */
  readonly ackTimeoutMs: number
  /** Reconnect backoff: base and cap of the exponential, full-jitter delay. */
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  /** Source of randomness for jitter (seeded in the simulator). */
  readonly random: () => number
  /**
   * Fault injection for tests of the checker only: returning false makes the
   * relay acknowledge a peer's delta without applying it (a broken relay).
   */
  readonly peerDeltaFilter?: (doc: string, update: Uint8Array) => boolean
}
