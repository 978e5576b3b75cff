/**
 * One regional relay: HTTP and WebSocket on one port, the loaded documents,
 * storage with group commit, the peer mesh, metrics. `start()` binds;
 * `close()` stops accepting, hands every pending update to storage, waits for
 * it to be durable and closes the database. Both are idempotent.
 */
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { Logger } from 'pino'
import { CloseCode, MeridianError, encodeDurableAck } from '@meridian/core'
import { resolveRelayOptions, type RelayOptions } from './config/options.js'
import { createLogger } from './observability/logger.js'
import { createRelayMetrics, combineObservers, type RelayMetrics } from './observability/metrics.js'
import { createHttpRoutes, type HttpRoutes } from './http/routes.js'
import type { HealthReport } from './http/health.js'
import { DocRegistry } from './docs/doc-registry.js'
import { ClientEndpoint } from './client-endpoint/client-endpoint.js'
import type { DocStore } from './storage/doc-store.js'
import { LevelDocStore } from './storage/level-store.js'
import { MemoryDocStore } from './storage/memory-store.js'
import { GroupCommitter } from './storage/group-commit.js'
import { Mesh, PEER_PATH } from './mesh/mesh.js'
import { AuditLog } from './mesh/audit-log.js'
import type { MeshObserver } from './mesh/mesh-context.js'
import { applyPolicyChange } from './mesh/policy-change.js'
import { WsSocket, wsConnector } from './transport/ws-socket.js'
import type { MessageSocket, SocketConnector } from './transport/socket.js'

const RELAY_ID_META_KEY = 'relay-id'
export { PEER_PATH }

export interface RelayDependencies {
  /** Use this store instead of the one the options imply (tests, simulation). */
  store?: DocStore
  logger?: Logger
  /** Share one metrics object (the CLI turns on process metrics); default: a fresh registry. */
  metrics?: RelayMetrics
  meshObserver?: MeshObserver
  /** How to reach peers; WebSocket by default, in-process links in the simulator. */
  connector?: SocketConnector
  /** false: do not bind a port (in-process use through connectClient/connectPeer). */
  listen?: boolean
  /** Randomness for backoff jitter (seeded by the simulator). */
  random?: () => number
  /** Fault injection for checker tests only (see MeshContext.peerDeltaFilter). */
  peerDeltaFilter?: (doc: string, update: Uint8Array) => boolean
}

/** The path part of a request target, without parsing it as a URL (which can throw or rewrite it). */
const pathOf = (target: string): string => target.split(/[?#]/, 1)[0] ?? '/'

export class Relay {
  readonly options: RelayOptions
  readonly logger: Logger
  readonly store: DocStore
  readonly committer: GroupCommitter
  readonly docs: DocRegistry
  readonly audit: AuditLog
  readonly metrics: RelayMetrics
  readonly clients: ClientEndpoint
  relayId = ''
  mesh: Mesh | null = null
  private readonly routes: HttpRoutes
  private readonly httpServer: http.Server
  private readonly wss: WebSocketServer
  private storageFailed = false
  private finalFlushFailed = false
  private started = false
  private closing: Promise<void> | null = null

  constructor(
    input: unknown,
    private readonly deps: RelayDependencies = {},
  ) {
    this.options = resolveRelayOptions(input)
    const o = this.options
    this.logger = deps.logger ?? createLogger({ level: o.logLevel, region: o.region })
    this.metrics = deps.metrics ?? createRelayMetrics()
    this.store = deps.store ?? (o.dataDir ? new LevelDocStore(o.dataDir, { durability: o.durability }) : new MemoryDocStore())
    this.committer = new GroupCommitter(this.store, { onError: (err) => this.failStorage(err), windowMs: o.groupCommitWindowMs })
    this.docs = new DocRegistry({
      store: this.store,
      idleEvictMs: o.idleEvictMs,
      compactAfterEntries: o.compactAfterEntries,
      logger: this.logger,
      persist: (doc, update) => this.metrics.timePersist(this.committer.enqueue(doc, update)),
      // Once storage has failed no ack is ever sent again: a later state
      // vector could cover writes that were not stored.
      encodeDurableAck: (sv) => (this.healthy ? encodeDurableAck(sv) : null),
      onPersistError: (doc, err) => this.failStorage(err, doc),
      onCompaction: (ok) => this.metrics.compaction(ok),
      onStoredLoaded: (bytes) => this.metrics.updateApplied('storage', bytes),
    })
    this.docs.onEffectiveUpdate((_live, update, origin) => this.metrics.updateApplied(origin.kind, update.byteLength))
    this.docs.onEvicted(() => this.metrics.documentEvicted())
    this.audit = new AuditLog(o.dataDir, this.logger)
    this.clients = new ClientEndpoint({
      options: o,
      logger: this.logger,
      audit: this.audit,
      docs: this.docs,
      metrics: this.metrics,
      relayId: () => this.relayId,
      regionsFor: (doc) => this.regionsFor(doc),
      healthy: () => this.healthy,
    })
    this.metrics.collect(this)
    this.routes = createHttpRoutes({ source: this, metrics: this.metrics, logger: this.logger })
    this.httpServer = http.createServer((req, res) => this.handleHttp(req, res))
    // No client tracking: the client endpoint and the mesh track their own sockets (and it costs heap per socket).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxMessageBytes, perMessageDeflate: false, clientTracking: false })
    this.httpServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head))
  }

  get port(): number {
    const address = this.httpServer.address()
    return typeof address === 'object' && address ? address.port : 0
  }

  get url(): string {
    return `ws://${this.options.host}:${this.port}`
  }

  get healthy(): boolean {
    return !this.storageFailed && this.store.healthy
  }

  /** Resolves when every update applied so far is durable in this relay's store. */
  async flush(): Promise<void> {
    this.docs.flushPending()
    await this.committer.flush()
  }

  async start(): Promise<this> {
    if (this.started) return this
    this.started = true
    const o = this.options
    await this.store.open()
    this.relayId = o.relayId ?? (await this.loadOrCreateRelayId())
    await applyPolicyChange(this.store, o.policy, o.region, this.audit, this.logger)
    const observer = this.deps.meshObserver ? combineObservers(this.metrics, this.deps.meshObserver) : this.metrics
    const mesh = new Mesh(
      {
        region: o.region,
        relayId: this.relayId,
        policy: o.policy,
        docs: this.docs,
        store: this.store,
        committer: this.committer,
        logger: this.logger,
        audit: this.audit,
        observer,
        maxMessageBytes: o.maxMessageBytes,
        highWaterBytes: o.peerHighWaterBytes,
        linkStream: o.peerLinkStream,
        digestIntervalMs: o.digestIntervalMs,
        cursorFollowMs: o.peerCursorFollowMs,
        ackTimeoutMs: o.peerAckTimeoutMs,
        helloTimeoutMs: o.peerHelloTimeoutMs,
        backoffBaseMs: o.peerBackoffBaseMs,
        backoffMaxMs: o.peerBackoffMaxMs,
        random: this.deps.random ?? Math.random,
        ...(this.deps.peerDeltaFilter ? { peerDeltaFilter: this.deps.peerDeltaFilter } : {}),
      },
      o.peers,
      o.peerSecret,
      this.deps.connector ?? wsConnector,
      o.authSecret === undefined,
    )
    this.mesh = mesh
    mesh.on('session-open', this.metrics.trackPeerSession)
    this.docs.onEffectiveUpdate((live, update, origin, releasedHeldBack) => mesh.onEffectiveUpdate(live, update, origin, releasedHeldBack))
    if (this.deps.listen !== false) {
      await new Promise<void>((resolve, reject) => {
        this.httpServer.once('error', reject)
        this.httpServer.listen(o.port, o.host, () => {
          this.httpServer.off('error', reject)
          resolve()
        })
      })
    }
    mesh.start()
    this.logger.info({ port: this.port, relayId: this.relayId }, 'relay listening')
    return this
  }

  private async loadOrCreateRelayId(): Promise<string> {
    const stored = await this.store.getMeta(RELAY_ID_META_KEY)
    if (stored) return new TextDecoder().decode(stored)
    const id = `${this.options.region}-${randomUUID().slice(0, 8)}`
    await this.store.putMeta(RELAY_ID_META_KEY, new TextEncoder().encode(id))
    return id
  }

  private failStorage(err: unknown, doc?: string): void {
    if (this.storageFailed) return
    this.storageFailed = true
    this.logger.error({ code: (err as MeridianError)?.code ?? 'storage-failed', err, doc }, 'storage failed: acknowledgements stop and the relay reports unhealthy')
    this.clients.closeAll(CloseCode.StorageUnavailable, 'storage unavailable')
  }

  /** Introduces a peer relay after start (the mesh dials it at once). */
  addPeer(peer: { region: string; url: string }): void {
    if (!this.mesh) throw new Error('start the relay before adding peers')
    this.mesh.addPeer(peer)
  }

  /** Regions allowed to hold a document, '*' expanded over the regions this relay knows. */
  regionsFor(doc: string): string[] {
    const known = [this.options.region, ...(this.mesh?.peerRegions() ?? this.options.peers.map((p) => p.region))]
    return this.options.policy.regionsFor(doc, known)
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    const target = req.url ?? '/'
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const wrapped = new WsSocket(ws)
      if (pathOf(target) === PEER_PATH) this.connectPeer(wrapped)
      else this.connectClient(wrapped, target)
    })
  }

  /** Serves a client socket for `path` (`/<docName>[?token=…]`), whatever transport it came over. */
  connectClient(socket: MessageSocket, path: string): void {
    if (this.closing) return socket.terminate()
    this.clients.accept(socket, path)
  }

  /** Hands an incoming relay-to-relay socket to the mesh. */
  connectPeer(socket: MessageSocket): void {
    if (this.closing || !this.mesh) return socket.terminate()
    this.metrics.watchSocket(socket, 'peer')
    this.mesh.accept(socket)
  }

  health(): HealthReport {
    return {
      status: this.healthy ? 'ok' : 'degraded',
      region: this.options.region,
      relayId: this.relayId,
      loadedDocs: this.docs.size,
      feedSeq: this.store.lastSeq(),
      connections: this.clients.connections.size,
      storage: { healthy: this.healthy, durability: this.options.durability, kind: this.options.dataDir ? 'leveldb' : 'memory' },
      peers: this.mesh?.health() ?? [],
    }
  }

  private handleHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.routes.handle(req, res)) return
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  /**
   * After close(): true when everything applied was stored and nothing ever
   * failed to store. The CLI exits non-zero otherwise.
   */
  get closedCleanly(): boolean {
    return !this.finalFlushFailed && !this.storageFailed
  }

  private async shutdown(): Promise<void> {
    this.routes.close()
    const closed = this.deps.listen !== false ? new Promise<void>((resolve) => this.httpServer.close(() => resolve())) : Promise.resolve()
    this.clients.closeAll(CloseCode.RelayShutdown, 'relay shutting down')
    this.httpServer.closeAllConnections?.()
    this.mesh?.close()
    this.docs.close()
    try {
      await this.committer.flush()
    } catch (err) {
      this.finalFlushFailed = true
      this.logger.error({ code: 'flush-failed', err }, 'final flush failed: updates applied since the last durable write may be lost')
    }
    await this.committer.close()
    await this.store.close()
    await this.audit.flush()
    // The close frames had the flush's time to go out; nobody waits 30 s for a silent client.
    this.clients.terminateAll()
    this.wss.close()
    await closed
    if (!this.deps.metrics) this.metrics.close()
    this.logger.info('relay stopped')
    this.logger.flush?.()
  }

  /**
   * Dies as a killed process would: sockets drop, in-memory state is lost,
   * and nothing pending is written. Only what storage already holds survives.
   * For crash tests and the cluster simulator.
   */
  async crash(): Promise<void> {
    if (this.closing) return this.closing
    let done!: () => void
    this.closing = new Promise<void>((resolve) => (done = resolve))
    this.routes.close()
    // Close the store first, so a group commit that has not started fails
    // instead of landing after the "crash".
    await this.store.close()
    this.mesh?.close()
    this.clients.terminateAll()
    this.docs.abandon()
    if (this.deps.listen !== false) {
      this.httpServer.closeAllConnections?.()
      await new Promise<void>((resolve) => this.httpServer.close(() => resolve()))
    }
    if (!this.deps.metrics) this.metrics.close()
    done()
  }
}
