/**
 * One authenticated link to a relay in another region.
 *
 * Roles: the relay that dialed the link (the "dialer") sends its deltas on it
 * and drives catch-up and anti-entropy; the other side applies, acks and
 * answers. Each relay dials every peer it is configured with, so in a full
 * mesh every pair has two links, one per direction of data.
 *
 * Cursor: the dialer keeps, per peer region, the highest change-feed seq S
 * such that every change this relay accepted from clients with seq <= S is
 * durably stored at the peer. Frames that need an ack carry a per-link
 * "mark"; when a frame emptied the queue, its mark covers the feed's last seq
 * at that moment, and the peer's ack of the mark (sent after its group
 * commit) moves the cursor there. When the link goes quiet (queue empty,
 * every frame acked, local writes durable) the cursor moves to the feed's end.
 * After a cut, catch-up syncs only the documents the feed recorded after the
 * cursor (state-vector exchange, then diffs): cost follows what changed.
 */
import * as Y from 'yjs'
import {
  CloseCode,
  DecodeError,
  encodeAck,
  encodeCatchupDone,
  encodeDelta,
  encodeDigest,
  encodePeerSyncStep1 as encodePeerStep1,
  encodePeerSyncStep2 as encodePeerStep2,
  tryDecode,
  type PeerMessage,
} from '@meridian/core'
import type { PeerLink } from './peer-link.js'
import type { PeerQueue, QueuedDelta } from './peer-queue.js'
import { DeltaScheduler } from './delta-scheduler.js'
import type { MeshContext } from './mesh-context.js'
import type { LiveDoc } from '../docs/live-doc.js'
import type { PeerOrigin } from '../docs/origin.js'
import { DigestIndex, differingBuckets, docsToRepair } from './digest.js'
import { loadCursor, saveCursor } from './cursor.js'
import { MarkTracker } from './mark-tracker.js'
import { walkFeed } from './catchup-walk.js'
import { applyFromPeer, regionMayHold } from './peer-apply.js'

/** Keeps frames well under the receiver's batch and payload limits. */
const MAX_DELTAS_PER_FRAME = 1000

export type SessionRole = 'dialer' | 'acceptor'

export class PeerSession {
  private readonly deltas: DeltaScheduler
  /** Ms between a delta's acceptance at its origin and its arrival here, last seen. */
  lastLagMs: number | null = null
  /** Documents the last catch-up exchanged. */
  lastCatchupDocs: number | null = null
  /**
   * True from the session's creation until its catch-up is sent: before the
   * catch-up has walked the feed from the cursor, no mark may claim the feed
   * (found by the simulation: a delta or cursor-follow in that window moved
   * the cursor past documents the catch-up then skipped).
   */
  catchingUp: boolean
  cursor = 0
  private readonly marks = new MarkTracker()
  private followTimer: ReturnType<typeof setTimeout> | null = null
  private digestTimer: ReturnType<typeof setInterval> | null = null
  private inbound: Promise<void> = Promise.resolve()
  private pendingCatchupDocs = new Set<string>()
  private catchupDone: { seq: number; docs: number } | null = null
  private catchupWireBytesAtStart = 0
  private closed = false

  constructor(
    private readonly ctx: MeshContext,
    readonly link: PeerLink,
    readonly role: SessionRole,
    readonly peerRegion: string,
    readonly peerRelayId: string,
    readonly policyHashMatch: boolean,
    private readonly events: { cursor(seq: number): void; catchupSent(docs: number): void } = { cursor: () => {}, catchupSent: () => {} },
  ) {
    this.catchingUp = role === 'dialer'
    this.deltas = new DeltaScheduler(() => link.bufferedAmount, ctx.highWaterBytes, this.sendDeltas)
  }

  /** Deltas waiting for their cadence or for a slow link, one entry per document. */
  get queue(): PeerQueue {
    return this.deltas.queue
  }

  get sendsDeltas(): boolean {
    return this.role === 'dialer'
  }

  /** Loads the cursor and starts catch-up; a failure closes the link (the redial retries). */
  async start(): Promise<void> {
    if (!this.sendsDeltas) return
    try {
      this.cursor = await loadCursor(this.ctx.store, this.peerRegion, this.peerRelayId, this.ctx.policy.hash)
    } catch (err) {
      this.fail('could not load the peer cursor', err)
      return
    }
    if (this.closed) return
    void this.runCatchup().catch((err: unknown) => this.fail('catch-up failed', err))
    if (this.ctx.digestIntervalMs > 0) {
      this.digestTimer = setInterval(() => {
        void this.sendDigest().catch((err: unknown) => this.ctx.logger.warn({ code: 'digest-failed', err }, 'digest failed'))
      }, this.ctx.digestIntervalMs)
      this.digestTimer.unref?.()
    }
  }

  // ---- sending ---------------------------------------------------------------

  /** Called for every effective update of a document the peer may hold. */
  enqueue(doc: string, update: Uint8Array, originRegion: string, originTime: number, cadenceMs: number): void {
    if (!this.sendsDeltas || this.closed) return
    this.deltas.push(doc, update, originRegion, originTime, cadenceMs)
  }

  /**
   * The feed moved through a change this link does not carry (one received
   * from a peer: its origin sends it everywhere). With no frame to ack, the
   * quiet-link rule would never run and the cursor would lag, and the next
   * catch-up would re-offer every such document. So once the link is quiet,
   * an empty catchup-done's mark carries the cursor to the feed's head.
   */
  noteUnsentChange(): void {
    if (!this.sendsDeltas || this.closed || this.followTimer) return
    this.followTimer = setTimeout(() => {
      this.followTimer = null
      void this.followFeed().catch((err: unknown) => this.fail('cursor follow failed', err))
    }, this.ctx.cursorFollowMs)
    this.followTimer.unref?.()
  }

  /** Nothing queued, nothing unacknowledged, no catch-up running, and open (close() empties the queue and marks). */
  private readonly quiet = (): boolean => !this.closed && this.queue.isEmpty() && this.marks.outstanding === 0 && !this.catchingUp

  /** Nothing queued or unacknowledged, and the peer has confirmed this relay's whole change feed. */
  get settled(): boolean {
    return this.quiet() && this.cursor >= this.ctx.store.lastSeq()
  }

  private async followFeed(): Promise<void> {
    // Unquiet links move the cursor through their own acks.
    if (!this.quiet()) return
    this.ctx.docs.flushPending()
    await this.ctx.committer.flush()
    if (this.closed || !this.quiet() || this.ctx.store.lastSeq() <= this.cursor) return
    this.link.sendEncoded([encodeCatchupDone(this.issueMark(this.ctx.store.lastSeq()))], 0, 0)
  }

  /** Sends due deltas, at most MAX_DELTAS_PER_FRAME per frame, each frame with its mark. */
  private readonly sendDeltas = (deltas: QueuedDelta[]): void => {
    for (let start = 0; start < deltas.length; start += MAX_DELTAS_PER_FRAME) {
      const chunk = deltas.slice(start, start + MAX_DELTAS_PER_FRAME)
      const last = start + MAX_DELTAS_PER_FRAME >= deltas.length
      const mark = this.issueMark(last && this.queue.isEmpty() && !this.catchingUp ? this.ctx.store.lastSeq() : null)
      let raw = 0
      const messages = chunk.map((d) => {
        raw += d.update.byteLength
        return encodeDelta(d.doc, d.update, d.originRegion, d.originTime, mark)
      })
      this.link.sendEncoded(messages, raw, chunk.length)
    }
  }

  private async runCatchup(): Promise<void> {
    this.catchingUp = true
    this.catchupStartedAt = Date.now()
    this.catchupWireBytesAtStart = this.link.counters.wireBytesOut + this.link.counters.wireBytesIn
    this.armWatchdog()
    // Updates applied before this session existed were not queued for it;
    // once they are durable they are in the feed, which catch-up reads.
    this.ctx.docs.flushPending()
    await this.ctx.committer.flush()
    if (this.closed) return
    const startSeq = this.ctx.store.lastSeq()
    const docs = await walkFeed(
      this.ctx,
      this.peerRegion,
      this.cursor,
      (step1s) => this.link.sendEncoded(step1s, 0, 0),
      (doc) => this.pendingCatchupDocs.add(doc),
      () => this.closed,
    )
    if (docs === null) return
    this.catchupDone = { seq: startSeq, docs }
    this.lastCatchupDocs = docs
    this.events.catchupSent(docs)
    this.ctx.logger.info({ peer: this.peerRegion, docs, fromSeq: this.cursor, toSeq: startSeq }, 'catch-up sent')
    this.maybeFinishCatchup()
  }

  private maybeFinishCatchup(): void {
    if (!this.catchupDone || this.pendingCatchupDocs.size > 0) return
    const { seq, docs } = this.catchupDone
    const mark = this.issueMark(seq)
    this.catchupDone = null
    this.catchingUp = false
    this.link.sendEncoded([encodeCatchupDone(mark)], 0, 0)
    // Every state vector and diff of the exchange has crossed by now (acks aside).
    const c = this.link.counters
    this.ctx.observer.catchupRun?.(this.peerRegion, docs, c.wireBytesOut + c.wireBytesIn - this.catchupWireBytesAtStart)
  }

  private async sendDigest(): Promise<void> {
    if (this.closed || this.catchingUp) return
    const index = await DigestIndex.build(this.ctx, this.peerRegion)
    if (this.closed) return
    this.lastDigest = index
    this.link.sendEncoded([encodeDigest(index.bucketHashes())], 0, 0)
  }

  private lastDigest: DigestIndex | null = null

  // ---- receiving ---------------------------------------------------------------

  /** Frames are handled one at a time, in order, so acks are cumulative. */
  receive(bytes: Uint8Array): void {
    this.inbound = this.inbound.then(() => this.handleFrame(bytes)).catch((err: unknown) => this.fail('failed to handle a peer frame', err))
  }

  /** Resolves once every frame received so far has been handled. */
  received(): Promise<void> {
    return this.inbound
  }

  private async handleFrame(bytes: Uint8Array): Promise<void> {
    if (this.closed) return
    const decoded = tryDecode(() => this.link.decodeFrame(bytes))
    if (!decoded.ok) {
      this.ctx.logger.warn({ code: decoded.error.code, peer: this.peerRegion, err: decoded.error }, 'malformed peer frame')
      this.ctx.observer.peerHostileInput?.(this.peerRegion, CloseCode.MalformedMessage)
      this.link.socket.close(CloseCode.MalformedMessage, decoded.error.message.slice(0, 120))
      return
    }
    const touched = new Set<LiveDoc>()
    const replies: Uint8Array[] = []
    const toAck = new Set<number>()
    for (const msg of decoded.value) {
      const mark = await this.handleMessage(msg, touched, replies)
      if (this.closed) return
      if (mark > 0) toAck.add(mark)
    }
    this.link.sendEncoded(replies, 0, 0)
    // After this frame's step2 replies are on the wire, so catchup-done's
    // mark is acknowledged only after them.
    this.maybeFinishCatchup()
    if (toAck.size > 0) this.ackWhenDurable(touched, toAck)
  }

  /**
   * Acknowledges marks once what their frames carried is durable here. The
   * next frame is applied meanwhile: waiting for the disk before reading on
   * would cap a link at one frame per fsync and let lag pile up behind it.
   * Each mark is acked on its own (not cumulatively), so a lost or reordered
   * frame is never covered by the ack of a later one.
   */
  private ackWhenDurable(touched: Set<LiveDoc>, marks: Set<number>): void {
    for (const live of touched) live.flushPending()
    this.ctx.committer.flush().then(
      () => {
        if (!this.closed) this.link.sendEncoded([...marks].map(encodeAck), 0, 0)
      },
      (err: unknown) => this.fail('storage failed; not acknowledging', err),
    )
  }

  /** Returns the mark to acknowledge (0 when the message needs no ack). */
  private async handleMessage(msg: PeerMessage, touched: Set<LiveDoc>, replies: Uint8Array[]): Promise<number> {
    switch (msg.type) {
      case 'delta': {
        const lag = Date.now() - msg.originTime
        this.lastLagMs = lag
        this.ctx.observer.replicationLag?.(this.peerRegion, msg.originRegion, lag)
        const origin: PeerOrigin = { kind: 'peer', fromRegion: this.peerRegion, originRegion: msg.originRegion, originTime: msg.originTime }
        if (this.ctx.peerDeltaFilter && !this.ctx.peerDeltaFilter(msg.doc, msg.update)) return msg.seq
        await applyFromPeer(this.ctx, this.peerRegion, msg.doc, msg.update, origin, touched, replies)
        return msg.seq
      }
      case 'sync-step2': {
        const origin: PeerOrigin = { kind: 'peer', fromRegion: this.peerRegion, originRegion: this.peerRegion, originTime: Date.now() }
        await applyFromPeer(this.ctx, this.peerRegion, msg.doc, msg.update, origin, touched, replies)
        return msg.seq
      }
      case 'sync-step1': {
        // The answer carries the document's content: both ends must be in its placement.
        if (
          !regionMayHold(this.ctx, this.peerRegion, msg.doc, this.ctx.region, 'peer-sent-disallowed-doc', replies) ||
          !regionMayHold(this.ctx, this.peerRegion, msg.doc, this.peerRegion, 'peer-requested-disallowed-doc', replies)
        )
          return 0
        const live = await this.ctx.docs.acquire(msg.doc)
        replies.push(encodePeerStep2(msg.doc, live.encodeStateAsUpdate(msg.stateVector), this.sendsDeltas ? this.takeCatchupMark(msg.doc) : 0))
        // The acceptor answers a step1 with its own, so the dialer can send what the acceptor lacks.
        if (!this.sendsDeltas) replies.push(encodePeerStep1(msg.doc, Y.encodeStateVector(live.doc)))
        return 0
      }
      case 'catchup-done':
        return msg.upToSeq
      case 'ack':
        await this.handleAck(msg.seq)
        return 0
      case 'refused':
        this.ctx.logger.warn({ code: 'peer-refused-doc', peer: this.peerRegion, doc: msg.doc, reason: msg.reason }, 'peer refused a document')
        this.pendingCatchupDocs.delete(msg.doc)
        return 0
      case 'digest':
        if (!this.sendsDeltas) replies.push(...(await differingBuckets(this.ctx, this.peerRegion, msg.buckets)))
        return 0
      case 'digest-bucket':
        if (this.sendsDeltas) {
          const index = this.lastDigest ?? (await DigestIndex.build(this.ctx, this.peerRegion))
          for (const doc of docsToRepair(this.ctx, this.peerRegion, index, msg.bucket, msg.entries)) {
            const live = await this.ctx.docs.acquire(doc)
            replies.push(encodePeerStep1(doc, Y.encodeStateVector(live.doc)))
          }
        }
        return 0
      case 'digest-bucket-request':
      case 'catchup-request':
        return 0
      case 'hello':
      case 'batch':
        throw new DecodeError('bad-value', `unexpected ${msg.type} inside a batch`)
    }
  }

  /** A step2 the dialer sends in answer to the acceptor's step1 finishes that document's catch-up. */
  private takeCatchupMark(doc: string): number {
    const mark = this.issueMark(null)
    this.pendingCatchupDocs.delete(doc)
    return mark
  }

  private issueMark(covered: number | null): number {
    const mark = this.marks.issue(covered)
    this.armWatchdog()
    return mark
  }

  private async handleAck(mark: number): Promise<void> {
    let covered = this.marks.ack(mark)
    if (this.quiet()) {
      // Quiescent: everything applied so far was queued when applied, the
      // queue is empty and every frame is acknowledged. Once every write
      // applied here is durable, the whole feed up to now is at the peer
      // (pending turns too: their feed entries must not come after the claim).
      this.ctx.docs.flushPending()
      await this.ctx.committer.flush()
      if (this.quiet()) covered = Math.max(covered ?? 0, this.ctx.store.lastSeq())
    }
    // The link may have closed while the flush ran: nothing it claimed can be trusted then.
    if (this.closed) return
    if (covered !== null && covered > this.cursor) {
      this.cursor = covered
      await saveCursor(this.ctx.store, this.peerRegion, this.peerRelayId, this.ctx.policy.hash, covered)
      this.events.cursor(covered)
    }
  }

  private watchdog: ReturnType<typeof setTimeout> | null = null

  /**
   * A frame that is never acknowledged (lost on a faulty link) or a catch-up
   * that never completes would stall the cursor forever; after
   * `ackTimeoutMs` the link is closed, and the reconnect's catch-up resends
   * from the cursor.
   */
  private armWatchdog(): void {
    if (this.watchdog || this.closed) return
    this.watchdog = setTimeout(() => {
      this.watchdog = null
      if (this.closed) return
      const stalledAck = this.marks.oldestWaitMs() >= this.ctx.ackTimeoutMs
      const stalledCatchup = this.catchingUp && this.catchupStartedAt !== null && Date.now() - this.catchupStartedAt >= this.ctx.ackTimeoutMs
      if (stalledAck || stalledCatchup) {
        this.ctx.logger.warn({ code: 'peer-stalled', peer: this.peerRegion }, 'peer link stalled; reconnecting')
        this.link.socket.close(CloseCode.InternalError, 'stalled')
        return
      }
      if (this.marks.outstanding > 0 || this.catchingUp) this.armWatchdog()
    }, this.ctx.ackTimeoutMs)
    this.watchdog.unref?.()
  }

  private catchupStartedAt: number | null = null

  private fail(what: string, err: unknown): void {
    if (this.closed) return
    this.ctx.logger.error({ code: (err as DecodeError)?.code ?? 'peer-error', peer: this.peerRegion, err }, what)
    const code = err instanceof DecodeError ? CloseCode.MalformedMessage : CloseCode.InternalError
    if (err instanceof DecodeError) this.ctx.observer.peerHostileInput?.(this.peerRegion, code)
    this.link.socket.close(code, what)
  }

  /** Idempotent; unacknowledged work is recovered by the next catch-up. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.deltas.close()
    if (this.digestTimer) clearInterval(this.digestTimer)
    if (this.followTimer) clearTimeout(this.followTimer)
    this.followTimer = null
    if (this.watchdog) clearTimeout(this.watchdog)
    this.watchdog = null
    this.digestTimer = null
    this.marks.clear()
    this.pendingCatchupDocs.clear()
  }
}
