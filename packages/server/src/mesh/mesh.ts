/**
 * The relay's side of the inter-region mesh: dials every configured peer
 * (exponential backoff with full jitter), accepts peers on PEER_PATH, runs
 * the authenticated hello, and routes every update accepted from a client
 * to the peer sessions whose region the document's placement allows.
 * Updates received from peers are applied, persisted and fanned out to
 * clients, but not sent on: the mesh is full (every relay peers with every
 * other), so the origin already sent them everywhere they may go.
 */
import { EventEmitter } from 'node:events'
import { CloseCode, PEER_PROTOCOL_VERSION, decodeHello, encodeHello, readHelloVersion, tryDecode, type HelloMessage } from '@meridian/core'
import type { MeshContext } from './mesh-context.js'
import { PeerLink } from './peer-link.js'
import { PeerSession, type SessionRole } from './peer-session.js'
import { checkHello, createHello, NonceCache } from './peer-auth.js'
import type { LiveDoc } from '../docs/live-doc.js'
import type { UpdateOrigin } from '../docs/origin.js'
import type { PeerHealth } from '../http/health.js'
import type { MessageSocket, SocketConnector } from '../transport/socket.js'

export const PEER_PATH = '/_meridian/peer'

/** Bound on the once-only reports kept per relay (hellos can come from anyone when peering is open). */
const MAX_REMEMBERED = 256

export interface PeerConfig {
  region: string
  url: string
}

interface Dialer {
  config: PeerConfig
  state: 'connecting' | 'connected' | 'disconnected'
  socket: MessageSocket | null
  session: PeerSession | null
  attempts: number
  timer: ReturnType<typeof setTimeout> | null
  remoteRelayId: string | null
  policyHashMatch: boolean | null
}

/**
 * Events: 'session-open' (session), 'session-close' (region, role),
 * 'cursor' (region, seq) when a peer confirmed more of our change feed,
 * 'catchup-sent' (region, docs).
 */
export class Mesh extends EventEmitter {
  private readonly dialers: Dialer[]
  private readonly acceptors = new Map<string, PeerSession>()
  private closed = false
  /** Nonces of authenticated hellos within the clock-skew window, to refuse replays. */
  private readonly seenNonces = new NonceCache()
  /** Policy mismatches already audited, by peer region and their policy hash. */
  private readonly reportedMismatches = new Set<string>()
  /** Regions that dialed us without being among our peers (reported once each). */
  private readonly undialedRegions = new Set<string>()
  /** Accepted sockets still waiting for their hello (closed with the mesh). */
  private readonly handshaking = new Set<MessageSocket>()

  constructor(
    private readonly ctx: MeshContext,
    peers: readonly PeerConfig[],
    private readonly secret: string | undefined,
    private readonly connector: SocketConnector,
    /** Without a peer secret, accept peers only when clients need no token either. */
    private readonly openPeering = true,
  ) {
    super()
    this.dialers = peers.map((config) => ({
      config, state: 'disconnected', socket: null, session: null, attempts: 0, timer: null, remoteRelayId: null, policyHashMatch: null,
    }))
    if (!secret && peers.length > 0) ctx.logger.warn({ code: 'peer-auth-off' }, 'no --peer-secret: any relay may peer with this one')
  }

  private started = false

  start(): void {
    this.started = true
    for (const d of this.dialers) this.dial(d)
  }

  /** Adds a peer at run time (tests start relays on port 0, then introduce them). */
  addPeer(config: PeerConfig): void {
    if (config.region === this.ctx.region) throw new Error(`peer region "${config.region}" is this relay's own region`)
    if (this.dialers.some((d) => d.config.region === config.region)) throw new Error(`peer region "${config.region}" is already configured`)
    const d: Dialer = { config, state: 'disconnected', socket: null, session: null, attempts: 0, timer: null, remoteRelayId: null, policyHashMatch: null }
    this.dialers.push(d)
    if (this.started) this.dial(d)
  }

  /** Regions this relay dials. */
  peerRegions(): string[] {
    return this.dialers.map((d) => d.config.region)
  }

  /**
   * Routes one effective update to the sessions that should carry it. One
   * that also released held-back content may carry what a client gave this
   * relay earlier, so it is sent on like a client's, whatever its origin.
   */
  onEffectiveUpdate(live: LiveDoc, update: Uint8Array, origin: UpdateOrigin, releasedHeldBack = false): void {
    if (origin.kind === 'storage') return
    let placement: ReturnType<MeshContext['policy']['placement']> | null = null
    for (const d of this.dialers) {
      const session = d.session
      if (!session) continue
      const region = session.peerRegion
      // In a full mesh the origin relay sends to every region itself; a
      // relay that forwarded what it received from a peer would race the
      // other receivers' forwards and send every update over the links
      // between receivers twice. Catch-up and digests repair cut links.
      if (origin.kind === 'peer' && !releasedHeldBack) {
        this.ctx.observer.deltaNotForwarded?.('origin')
        session.noteUnsentChange()
        continue
      }
      placement ??= this.ctx.policy.placement(live.name)
      if (placement.regions !== '*' && !placement.regions.includes(region)) {
        this.ctx.observer.deltaNotForwarded?.('policy')
        session.noteUnsentChange()
        continue
      }
      session.enqueue(live.name, update, this.ctx.region, Date.now(), placement.cadenceMs)
    }
  }

  // ---- dialing ---------------------------------------------------------------

  private dial(d: Dialer): void {
    if (this.closed) return
    d.state = 'connecting'
    const url = `${d.config.url.replace(/\/$/, '')}${PEER_PATH}`
    const socket = this.connector.connect(url, { maxMessageBytes: this.ctx.maxMessageBytes })
    d.socket = socket
    const hello = createHello(this.identity(), this.secret)
    const helloTimer = setTimeout(() => socket.terminate(), this.ctx.helloTimeoutMs)
    socket.on('open', () => socket.send(encodeHello(hello)))
    const onHello = (data: Uint8Array): void => {
      socket.off('message', onHello)
      clearTimeout(helloTimer)
      if (this.closed) return socket.terminate()
      const reply = this.readHello(data, hello.nonce)
      if (typeof reply === 'string') {
        this.ctx.logger.error({ code: 'peer-rejected', peer: d.config.region, reason: reply }, 'peer handshake failed')
        socket.close(CloseCode.PeerRejected, reply.slice(0, 120))
        return
      }
      if (reply.region !== d.config.region) {
        socket.close(CloseCode.PeerRejected, `expected region ${d.config.region}, got ${reply.region}`.slice(0, 120))
        return
      }
      d.attempts = 0
      d.state = 'connected'
      d.remoteRelayId = reply.relayId
      d.policyHashMatch = reply.policyHash === this.ctx.policy.hash
      d.session = this.openSession(socket, 'dialer', reply)
    }
    socket.on('message', onHello)
    socket.on('close', (code, reason) => {
      clearTimeout(helloTimer)
      if (d.session) {
        d.session.close()
        this.emit('session-close', d.config.region, 'dialer')
      }
      d.session = null
      d.socket = null
      d.state = 'disconnected'
      if (this.closed) return
      if (code === CloseCode.PeerRejected) this.ctx.logger.warn({ peer: d.config.region, reason }, 'peer link refused')
      const delay = this.ctx.random() * Math.min(this.ctx.backoffMaxMs, this.ctx.backoffBaseMs * 2 ** d.attempts++)
      d.timer = setTimeout(() => {
        d.timer = null
        this.dial(d)
      }, delay)
    })
  }

  // ---- accepting -------------------------------------------------------------

  /** Takes an incoming peer socket (already upgraded); the hello decides whether it stays. */
  accept(socket: MessageSocket): void {
    if (this.closed) {
      socket.terminate()
      return
    }
    const helloTimer = setTimeout(() => socket.terminate(), this.ctx.helloTimeoutMs)
    this.handshaking.add(socket)
    socket.on('close', () => {
      clearTimeout(helloTimer)
      this.handshaking.delete(socket)
    })
    const onHello = (data: Uint8Array, isBinary: boolean): void => {
      socket.off('message', onHello)
      clearTimeout(helloTimer)
      this.handshaking.delete(socket)
      if (this.closed) return socket.terminate()
      const hello = !this.secret && !this.openPeering ? 'peering needs a peer secret on this relay' : isBinary ? this.readHello(data, undefined) : 'text frame'
      const replayed = typeof hello !== 'string' && this.secret !== undefined && !this.seenNonces.add(hello.nonce, hello.time)
      if (typeof hello === 'string' || hello.region === this.ctx.region || replayed) {
        const reason = typeof hello === 'string' ? hello : replayed ? 'replayed hello' : "peer claims this relay's own region"
        this.ctx.audit.record({ kind: 'peer-rejected', detail: reason })
        socket.close(CloseCode.PeerRejected, reason.slice(0, 120))
        return
      }
      if (!this.dialers.some((d) => d.config.region === hello.region) && !this.undialedRegions.has(hello.region) && this.undialedRegions.size < MAX_REMEMBERED) {
        // Receivers do not forward (see the header): a region we never send to
        // would miss every update accepted here. The mesh must be full.
        this.undialedRegions.add(hello.region)
        this.ctx.logger.warn({ code: 'partial-mesh', peer: hello.region }, `region ${hello.region} peers with this relay but is not among its peers; add it, or it will not receive updates accepted here`)
      }
      socket.send(encodeHello(createHello(this.identity(), this.secret, hello.nonce)))
      this.acceptors.get(hello.region)?.link.socket.close(CloseCode.RelayShutdown, 'replaced by a newer link')
      const session = this.openSession(socket, 'acceptor', hello)
      this.acceptors.set(hello.region, session)
      socket.on('close', () => {
        session.close()
        if (this.acceptors.get(hello.region) === session) this.acceptors.delete(hello.region)
        this.emit('session-close', hello.region, 'acceptor')
      })
    }
    socket.on('message', onHello)
  }

  private readHello(bytes: Uint8Array, answering: Uint8Array | undefined): HelloMessage | string {
    // The version is read first: a later version's hello may not decode as this one.
    const version = tryDecode(() => readHelloVersion(bytes))
    if (!version.ok) return `bad hello: ${version.error.message}`
    if (version.value !== PEER_PROTOCOL_VERSION) return `peer protocol ${version.value} not supported; this relay speaks ${PEER_PROTOCOL_VERSION}`
    const decoded = tryDecode(() => decodeHello(bytes))
    if (!decoded.ok) return `bad hello: ${decoded.error.message}`
    const problem = checkHello(decoded.value, this.secret, answering)
    if (problem) return problem
    const mismatchKey = `${decoded.value.region}\0${decoded.value.policyHash}`
    if (decoded.value.policyHash !== this.ctx.policy.hash && !this.reportedMismatches.has(mismatchKey) && this.reportedMismatches.size < MAX_REMEMBERED) {
      // Once per peer and policy: a flapping link must not flood the audit log.
      this.reportedMismatches.add(mismatchKey)
      this.ctx.audit.record({ kind: 'policy-mismatch', peerRegion: decoded.value.region, detail: `theirs ${decoded.value.policyHash.slice(0, 12)}, ours ${this.ctx.policy.hash.slice(0, 12)}` })
    }
    return decoded.value
  }

  private openSession(socket: MessageSocket, role: SessionRole, hello: HelloMessage): PeerSession {
    const link = new PeerLink(socket, { maxPayloadBytes: this.ctx.maxMessageBytes * 4 }, this.ctx.linkStream)
    const session = new PeerSession(this.ctx, link, role, hello.region, hello.relayId, hello.policyHash === this.ctx.policy.hash, {
      cursor: (seq) => this.emit('cursor', hello.region, seq),
      catchupSent: (docs) => this.emit('catchup-sent', hello.region, docs),
    })
    socket.on('message', (data) => session.receive(data))
    session.start().catch((err: unknown) => this.ctx.logger.error({ code: 'peer-start-failed', err }, 'peer session failed to start'))
    this.ctx.logger.info({ peer: hello.region, role, relayId: hello.relayId }, 'peer connected')
    queueMicrotask(() => this.emit('session-open', session))
    return session
  }

  private identity() {
    return { relayId: this.ctx.relayId, region: this.ctx.region, policyHash: this.ctx.policy.hash }
  }

  // ---- reporting ---------------------------------------------------------------

  sessions(): PeerSession[] {
    return [...this.dialers.flatMap((d) => (d.session ? [d.session] : [])), ...this.acceptors.values()]
  }

  health(): PeerHealth[] {
    return this.dialers.map((d) => {
      const inbound = this.acceptors.get(d.config.region)
      return {
        region: d.config.region,
        url: d.config.url,
        state: d.state,
        relayId: d.remoteRelayId,
        policyHashMatch: d.policyHashMatch,
        lagMs: inbound?.lastLagMs ?? null,
        backlogDocs: d.session?.queue.docs ?? 0,
        backlogBytes: d.session?.queue.pendingBytes ?? 0,
        inboundConnected: inbound !== undefined,
        cursor: d.session?.cursor ?? null,
        counters: d.session?.link.counters ?? null,
      }
    })
  }

  /** True when every configured peer has both links up. */
  fullyConnected(): boolean {
    return this.dialers.every((d) => d.session !== null && this.acceptors.has(d.config.region))
  }

  /**
   * True when every link is up and every peer has confirmed this relay's
   * whole change feed, with nothing queued or unacknowledged: everything
   * accepted here is durable everywhere it may go.
   */
  settled(): boolean {
    return this.fullyConnected() && this.dialers.every((d) => d.session?.settled === true)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.removeAllListeners()
    for (const d of this.dialers) {
      if (d.timer) clearTimeout(d.timer)
      d.session?.close()
      d.socket?.terminate()
    }
    for (const s of this.acceptors.values()) {
      s.close()
      s.link.socket.terminate()
    }
    for (const socket of this.handshaking) socket.terminate()
    this.handshaking.clear()
    this.acceptors.clear()
  }
}
