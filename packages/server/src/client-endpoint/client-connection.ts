/**
 * One client WebSocket on one document. Every message is decoded and checked
 * here, at the edge, before anything else sees it; a bad one closes this
 * connection with a named code and touches nothing else. Messages that
 * arrive while the document is still loading wait in a bounded queue.
 */
import * as Y from 'yjs'
import type { MessageSocket } from '../transport/socket.js'
import { applyAwarenessUpdate, encodeAwarenessUpdate as encodeAwarenessStates } from 'y-protocols/awareness'
import {
  CloseCode,
  ClientFeature,
  decodeAwarenessUpdate,
  decodeClientMessage,
  decodeStateVectorSafe,
  encodeAwareness,
  encodeBarrierDurable,
  encodeDurableAck,
  encodeRelayInfo,
  encodeSyncStep1,
  encodeSyncStep2,
  tryDecode,
  validateUpdate,
  type ClientMessage,
} from '@meridian/core'
import type { DocConnection, LiveDoc } from '../docs/live-doc.js'
import type { ClientEndpointContext } from './context.js'
import { TokenBucket } from './rate-limit.js'

let nextConnectionId = 1

/**
 * Durable barriers one connection may have waiting at once. Meridian's client
 * keeps one in flight (it sends the next when the last is answered), so only
 * a client flooding the relay with promises to keep reaches this.
 */
export const MAX_WAITING_BARRIERS = 16

export type Access = 'read' | 'write'

export class ClientConnection implements DocConnection {
  readonly id = nextConnectionId++
  wantsDurableAcks = false
  private live: LiveDoc | null = null
  /** What arrived before the document was loaded (created only if something did). */
  private backlog: Uint8Array[] | null = null
  private backlogBytes = 0
  private closed = false
  /** Sent meridian-hello: extension messages may reach it. */
  private meridian = false
  private barriersWaiting = 0
  /** A write of this read-only connection was dropped, so a barrier-durable would claim what is not stored. */
  private droppedWrite = false
  private origin: { readonly kind: 'client'; readonly connectionId: number } | null = null
  private readonly bucket: TokenBucket
  /** Set once the connection is authorized; until then nothing is applied. */
  access: Access = 'read'

  constructor(
    private readonly socket: MessageSocket,
    readonly docName: string,
    private readonly ctx: ClientEndpointContext,
  ) {
    this.bucket = new TokenBucket(ctx.limits.rateLimitPerSecond, ctx.limits.rateLimitBurst)
    socket.on('message', this.handleRaw)
    socket.on('close', this.handleClose)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Called once authorized and the document is loaded: start the y-websocket handshake, then drain the queue. */
  attach(live: LiveDoc, access: Access): void {
    if (this.closed) return
    this.access = access
    this.live = live
    live.addConnection(this)
    this.send(encodeSyncStep1(Y.encodeStateVector(live.doc)))
    const states = live.hasAwareness() ? live.awareness.getStates() : null
    if (states && states.size > 0) this.send(encodeAwareness(encodeAwarenessStates(live.awareness, [...states.keys()])))
    const queued = this.backlog ?? []
    this.backlog = null
    this.backlogBytes = 0
    for (const bytes of queued) {
      if (this.closed) return
      this.handle(bytes)
    }
  }

  send(message: Uint8Array): void {
    if (this.closed) return
    if (this.socket.bufferedAmount + message.byteLength > this.ctx.limits.maxBufferedBytes) {
      this.close(CloseCode.SlowConsumer, 'send buffer full')
      return
    }
    this.socket.send(message)
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.ctx.onClosedByRelay?.(code)
    this.socket.close(code, reason.slice(0, 120))
    this.detach()
  }

  /** Drops the socket without waiting for a close handshake (also one already begun). */
  terminate(): void {
    this.closed = true
    this.socket.terminate()
    this.detach()
  }

  private readonly handleRaw = (bytes: Uint8Array, isBinary: boolean): void => {
    if (this.closed) return
    if (!isBinary) return this.close(CloseCode.UnsupportedData, 'text frames are not part of the protocol')
    if (!this.bucket.take()) return this.close(CloseCode.RateLimited, 'message rate limit exceeded')
    if (this.live === null) {
      this.backlogBytes += bytes.byteLength
      if (this.backlogBytes > this.ctx.limits.maxPreAuthBytes) return this.close(CloseCode.MessageTooLarge, 'too much data before authentication and load')
      this.backlog ??= []
      this.backlog.push(bytes)
      return
    }
    this.handle(bytes)
  }

  private handle(bytes: Uint8Array): void {
    const decoded = tryDecode(() => decodeClientMessage(bytes, { maxPayloadBytes: this.ctx.limits.maxMessageBytes }))
    if (!decoded.ok) return this.close(CloseCode.MalformedMessage, `${decoded.error.code}: ${decoded.error.message}`)
    try {
      this.dispatch(decoded.value)
    } catch (err) {
      this.ctx.logger.error({ code: 'internal-error', err, doc: this.docName, conn: this.id }, 'failed to handle a client message')
      this.close(CloseCode.InternalError, 'internal error')
    }
  }

  private dispatch(msg: ClientMessage): void {
    const live = this.live!
    switch (msg.type) {
      case 'sync-step1': {
        const sv = tryDecode(() => decodeStateVectorSafe(msg.stateVector))
        if (!sv.ok) return this.close(CloseCode.MalformedMessage, `state vector: ${sv.error.message}`)
        this.send(encodeSyncStep2(live.encodeStateAsUpdate(msg.stateVector)))
        return
      }
      case 'sync-step2':
      case 'sync-update': {
        if (this.access !== 'write') {
          this.droppedWrite = true
          this.ctx.onReadOnlyWrite?.()
          return
        }
        // Being reloaded from storage: this client reconnects and syncs with the fresh copy.
        if (live.isStale) return this.close(CloseCode.InternalError, 'document reloading; reconnect')
        const valid = tryDecode(() => validateUpdate(msg.update, { maxBytes: this.ctx.limits.maxMessageBytes }))
        if (!valid.ok) return this.close(CloseCode.InvalidUpdate, `${valid.error.code}: ${valid.error.message}`)
        try {
          live.apply(msg.update, (this.origin ??= Object.freeze({ kind: 'client' as const, connectionId: this.id })))
          if (live.pendingBytes() > this.ctx.limits.maxMessageBytes) {
            // Updates whose dependencies never arrive would pile up and be
            // sent to every later client; drop them and the sender.
            live.discardHeldBack()
            return this.close(CloseCode.InvalidUpdate, 'too many updates with missing dependencies')
          }
        } catch (err) {
          this.ctx.logger.warn({ code: 'invalid-update', err, doc: this.docName, conn: this.id }, 'update failed to apply')
          this.close(CloseCode.InvalidUpdate, 'update failed to apply')
        }
        return
      }
      case 'awareness':
        return this.applyAwareness(live, msg.update)
      case 'query-awareness': {
        const states = live.awareness.getStates()
        if (states.size > 0) this.send(encodeAwareness(encodeAwarenessStates(live.awareness, [...states.keys()])))
        return
      }
      case 'meridian-hello': {
        this.meridian = true
        this.wantsDurableAcks = (msg.features & ClientFeature.DurableAck) !== 0
        if ((msg.features & ClientFeature.RelayInfo) !== 0) {
          this.send(encodeRelayInfo(this.ctx.region, this.ctx.relayId, this.ctx.regionsFor(this.docName)))
        }
        const durable = this.wantsDurableAcks && this.ctx.healthy() ? live.durableStateVector() : null
        if (durable) this.send(encodeDurableAck(durable))
        return
      }
      case 'durable-barrier':
        return this.barrier(live, msg.id)
      case 'auth-denied':
        return // a client has nothing to deny; stock clients never send it
      case 'durable-ack':
      case 'relay-info':
      case 'refusal':
      case 'barrier-durable':
        return this.close(CloseCode.MalformedMessage, `${msg.type} is sent by relays, not clients`)
    }
  }

  /**
   * Answers once every write handed to storage so far is durable: messages
   * are handled in order, so that includes everything this connection sent
   * before the barrier. Never answered when a write failed (storage failure
   * closes every client with 4011) or once the relay is unhealthy; nor for a
   * read-only connection that had writes dropped, as the answer would claim
   * they are stored.
   */
  private barrier(live: LiveDoc, id: number): void {
    // Only clients that said hello get extension messages; stock clients never send barriers.
    if (!this.meridian || this.droppedWrite) return
    if (this.barriersWaiting >= MAX_WAITING_BARRIERS) return this.close(CloseCode.RateLimited, 'too many durable barriers waiting')
    this.barriersWaiting++
    live.whenWritesDurable().then(
      () => {
        this.barriersWaiting--
        if (this.ctx.healthy()) this.send(encodeBarrierDurable(id))
      },
      () => {
        // The failed write is reported, and this connection closed, by the relay's storage-failure path.
        this.barriersWaiting--
      },
    )
  }

  private applyAwareness(live: LiveDoc, update: Uint8Array): void {
    const decoded = tryDecode(() => decodeAwarenessUpdate(update, this.ctx.limits.awareness))
    if (!decoded.ok) return this.close(CloseCode.MalformedMessage, `awareness: ${decoded.error.message}`)
    let mine = live.awarenessIdsByConnection.get(this.id)
    for (const entry of decoded.value) {
      if (mine?.has(entry.clientId)) continue
      // A client id is free if nobody holds it, or its holder has left.
      const holder = [...live.awarenessIdsByConnection].find(([connId, ids]) => connId !== this.id && ids.has(entry.clientId))
      if (holder) {
        // Stock y-websocket clients echo others' states they applied; an
        // entry y-protocols would ignore (not newer) is harmless, not a spoof.
        const known = live.awareness.meta.get(entry.clientId)?.clock ?? 0
        const ignored = entry.clock < known || (entry.clock === known && entry.state !== 'null')
        if (ignored) continue
        return this.close(CloseCode.AwarenessSpoof, `awareness client ${entry.clientId} belongs to another connection`)
      }
      if (!mine) {
        mine = new Set()
        live.awarenessIdsByConnection.set(this.id, mine)
      }
      if (mine.size >= this.ctx.limits.maxAwarenessIdsPerConnection) {
        return this.close(CloseCode.AwarenessSpoof, 'too many awareness client ids on one connection')
      }
      mine.add(entry.clientId)
    }
    applyAwarenessUpdate(live.awareness, update, this)
  }

  /** Called once the socket itself has closed (after the close handshake). */
  onSocketClosed: (() => void) | null = null

  private readonly handleClose = (): void => {
    this.onSocketClosed?.()
    this.closed = true
    this.detach()
  }

  private detached = false

  private detach(): void {
    if (this.detached) return
    this.detached = true
    this.backlog = null
    if (this.live) {
      const live = this.live
      this.live = null
      live.removeConnection(this.id)
    }
    this.ctx.onConnectionGone(this)
  }
}
