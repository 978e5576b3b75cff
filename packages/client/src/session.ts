/**
 * One WebSocket connection to one relay for one document, speaking
 * y-websocket plus Meridian's opt-in extensions: hello first, then sync step 1
 * and awareness; it answers the relay's step 1, applies its updates and
 * reports relay-info, durable acks and refusals to the provider.
 *
 * Every sync-step1 we send is answered by exactly one sync-step2, in order,
 * so a FIFO of "why we asked" tells what each reply means: the initial sync
 * or a heartbeat.
 *
 * Deletions are proven durable with a durable barrier: the relay answers it
 * once everything we sent before it is on its disk. One barrier is in flight
 * at a time, carrying the newest deletion generation waiting for proof; its
 * answer proves that generation and every older one.
 */
import * as Y from 'yjs'
import {
  ClientFeature,
  MERIDIAN_CLIENT_PROTOCOL_VERSION,
  decodeClientMessage,
  decodeStateVectorSafe,
  encodeAwareness,
  encodeDurableBarrier,
  encodeMeridianHello,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  tryDecode,
  type ClientMessage,
  type StateVector,
} from '@meridian/core'
import { ClientError } from './errors.js'
import { TimerSet } from './timers.js'
import { WS_OPEN, toBytes, type WebSocketConstructor, type WebSocketEventLike, type WebSocketLike } from './socket.js'

export interface SessionClose {
  code: number
  reason: string
  /** Regions a refusal message named before the close, if one came. */
  refusalRegions: string[] | null
  opened: boolean
  synced: boolean
}

export interface SessionHooks {
  synced(): void
  relayInfo(info: { region: string; relayId: string; regions: string[] }): void
  durableAck(stateVector: StateVector): void
  deletesProven(generation: number): void
  awareness(update: Uint8Array): void
  queryAwareness(): void
  /** The connection ended for a reason other than our own close(). Called once. */
  closed(close: SessionClose): void
  error(err: ClientError): void
  pendingDeleteGeneration(): number | null
  /** Our awareness state to announce on open (an encoded awareness update), or null. */
  localAwareness(): Uint8Array | null
}

export interface SessionOptions {
  WebSocket: WebSocketConstructor
  url: string
  doc: Y.Doc
  /** Transaction origin for what the relay sends, so the provider does not echo it back. */
  origin: unknown
  connectTimeoutMs: number
  /** Silence after which we ask for a reply; as long again without any message, the connection is dead. */
  heartbeatMs: number
}

type Step1Purpose = 'initial' | 'heartbeat'

/** Codes for connections we end ourselves; 4900+ is unused by relays and marks them as local. */
export const LocalClose = { ConnectTimeout: 4900, HeartbeatTimeout: 4901, BadRelayMessage: 4902 } as const

const HELLO = encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck | ClientFeature.RelayInfo)

export class Session {
  private readonly ws: WebSocketLike
  private readonly timers = new TimerSet()
  private state: 'connecting' | 'open' | 'closed' = 'connecting'
  private isSynced = false
  private sentStep2 = false
  private readonly step1s: Step1Purpose[] = []
  /** Deletion generation of the barrier waiting for its answer. */
  private barrier: number | null = null
  private lastHeard = 0
  /** When the heartbeat's sync-step1 went out, if nothing was heard since. */
  private pingedAt: number | null = null
  private refusalRegions: string[] | null = null

  constructor(
    private readonly options: SessionOptions,
    private readonly hooks: SessionHooks,
  ) {
    this.ws = new options.WebSocket(options.url)
    this.ws.binaryType = 'arraybuffer'
    this.ws.addEventListener('open', this.onOpen)
    this.ws.addEventListener('message', this.onMessage)
    this.ws.addEventListener('close', this.onClose)
    this.ws.addEventListener('error', this.onError)
    this.timers.set('connect', options.connectTimeoutMs, () => this.abort(LocalClose.ConnectTimeout, 'connect timeout'))
  }

  get open(): boolean {
    return this.state === 'open'
  }

  get synced(): boolean {
    return this.isSynced
  }

  sendUpdate(update: Uint8Array): void {
    this.send(encodeSyncUpdate(update))
  }

  sendAwareness(update: Uint8Array): void {
    this.send(encodeAwareness(update))
  }

  /**
   * Sends a durable barrier if deletions wait for proof and none is in
   * flight. Call it after sending the deletions: a barrier proves only what
   * precedes it. Not before our sync-step2 went out, as that carries what
   * the relay lacked (edits made offline, the local copy) and a barrier
   * before it would prove none of that.
   */
  requestBarrier(): void {
    if (this.state !== 'open' || !this.sentStep2 || this.barrier !== null) return
    const generation = this.hooks.pendingDeleteGeneration()
    if (generation === null) return
    this.barrier = generation
    this.send(encodeDurableBarrier(generation))
  }

  /** Ends the connection on the provider's request; no `closed` hook follows. */
  close(code = 1000, reason = 'client closing'): void {
    if (this.state === 'closed') return
    this.finish()
    try {
      this.ws.close(code, reason)
    } catch (err) {
      this.hooks.error(new ClientError('bad-relay-message', 'closing the WebSocket failed', { cause: err }))
    }
  }

  private send(message: Uint8Array): void {
    if (this.state === 'open' && this.ws.readyState === WS_OPEN) this.ws.send(message)
  }

  private sendStep1(purpose: Step1Purpose): void {
    this.step1s.push(purpose)
    this.send(encodeSyncStep1(Y.encodeStateVector(this.options.doc)))
  }

  private readonly onOpen = (): void => {
    if (this.state !== 'connecting') return
    this.state = 'open'
    this.timers.clear('connect')
    // Hello first, so that every extension message can reach us.
    this.send(HELLO)
    this.sendStep1('initial')
    const awareness = this.hooks.localAwareness()
    if (awareness) this.sendAwareness(awareness)
    this.lastHeard = Date.now()
    this.armHeartbeat(this.options.heartbeatMs)
  }

  private readonly onMessage = (event: WebSocketEventLike): void => {
    if (this.state !== 'open') return
    this.lastHeard = Date.now()
    this.pingedAt = null
    const bytes = toBytes(event.data)
    const decoded = bytes ? tryDecode(() => decodeClientMessage(bytes)) : null
    if (!decoded || !decoded.ok) {
      const cause = decoded && !decoded.ok ? decoded.error : undefined
      this.hooks.error(new ClientError('bad-relay-message', 'the relay sent a message that does not decode', { cause }))
      this.abort(LocalClose.BadRelayMessage, 'undecodable message')
      return
    }
    try {
      this.dispatch(decoded.value)
    } catch (err) {
      this.hooks.error(new ClientError('bad-relay-message', `failed to handle ${decoded.value.type} from the relay`, { cause: err }))
      this.abort(LocalClose.BadRelayMessage, 'message failed to apply')
    }
  }

  private dispatch(msg: ClientMessage): void {
    switch (msg.type) {
      case 'sync-step1':
        this.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.options.doc, msg.stateVector)))
        this.sentStep2 = true
        this.requestBarrier()
        return
      case 'sync-step2':
        Y.applyUpdate(this.options.doc, msg.update, this.options.origin)
        this.onStep2Reply()
        return
      case 'sync-update':
        Y.applyUpdate(this.options.doc, msg.update, this.options.origin)
        return
      case 'awareness':
        this.hooks.awareness(msg.update)
        return
      case 'query-awareness':
        this.hooks.queryAwareness()
        return
      case 'durable-ack':
        this.hooks.durableAck(decodeStateVectorSafe(msg.stateVector))
        return
      case 'relay-info':
        this.hooks.relayInfo({ region: msg.region, relayId: msg.relayId, regions: msg.regions })
        return
      case 'refusal':
        this.refusalRegions = msg.regions
        return
      case 'barrier-durable':
        return this.onBarrierDurable(msg.id)
      case 'auth-denied':
        // The relay closes with a code right after; the code decides what we do.
        return
      case 'meridian-hello':
      case 'durable-barrier':
        throw new ClientError('bad-relay-message', `${msg.type} is sent by clients, not relays`)
    }
  }

  private onStep2Reply(): void {
    const purpose = this.step1s.shift()
    if (purpose === 'initial' && !this.isSynced) {
      this.isSynced = true
      this.hooks.synced()
    }
  }

  private onBarrierDurable(id: number): void {
    // Only the id we sent may prove anything: a larger one would "prove" deletions not yet made.
    if (id !== this.barrier) throw new ClientError('bad-relay-message', `barrier-durable ${id} answers no barrier we sent`)
    this.barrier = null
    this.hooks.deletesProven(id)
    this.requestBarrier()
  }

  /**
   * A message resets the silence; after heartbeatMs of it we send a
   * sync-step1 (which the relay must answer), and heartbeatMs more without
   * any message ends the connection. Messages only stamp the time (no timer
   * churn per message); the timer wakes when the silence could be due.
   */
  private armHeartbeat(delayMs: number): void {
    this.timers.set('heartbeat', delayMs, () => {
      if (this.state !== 'open') return
      const now = Date.now()
      const silentFor = now - this.lastHeard
      const { heartbeatMs } = this.options
      if (silentFor < heartbeatMs) return this.armHeartbeat(heartbeatMs - silentFor)
      if (this.pingedAt === null) {
        this.pingedAt = now
        this.sendStep1('heartbeat')
        return this.armHeartbeat(heartbeatMs)
      }
      if (now - this.pingedAt < heartbeatMs) return this.armHeartbeat(heartbeatMs - (now - this.pingedAt))
      this.abort(LocalClose.HeartbeatTimeout, 'no reply from the relay')
    })
  }

  private readonly onClose = (event: WebSocketEventLike): void => {
    if (this.state === 'closed') return
    const opened = this.state === 'open'
    const synced = this.isSynced
    this.finish()
    this.hooks.closed({ code: event.code ?? 1006, reason: event.reason ?? '', refusalRegions: this.refusalRegions, opened, synced })
  }

  // A failed connection always ends in 'close' too; that is where it is handled.
  private readonly onError = (): void => {}

  /** Ends the connection for a reason found on our side and reports it like a close. */
  private abort(code: number, reason: string): void {
    if (this.state === 'closed') return
    const opened = this.state === 'open'
    const synced = this.isSynced
    this.close(code, reason)
    this.hooks.closed({ code, reason, refusalRegions: null, opened, synced })
  }

  private finish(): void {
    this.state = 'closed'
    this.timers.clearAll()
    this.ws.removeEventListener('open', this.onOpen)
    this.ws.removeEventListener('message', this.onMessage)
    this.ws.removeEventListener('close', this.onClose)
    // Keep a no-op error listener: `ws` throws on an 'error' with no listener,
    // and a socket we stopped listening to may still fail while closing.
  }
}
