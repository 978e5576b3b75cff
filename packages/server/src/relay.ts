/**
 * One regional relay: HTTP and WebSocket on one port, the loaded documents,
 * storage with group commit, and (with the mesh) its peers. `start()` binds;
 * `close()` stops accepting, hands every pending update to storage, waits for
 * it to be durable and closes the database. Both are idempotent.
 */
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { WsSocket, wsConnector } from './transport/ws-socket.js'
import type { MessageSocket, SocketConnector } from './transport/socket.js'
import type { Logger } from 'pino'
import {
  CloseCode,
  MeridianError,
  docNameFromUrlPath,
  encodeDurableAck,
} from '@meridian/core'
import { resolveRelayOptions, type RelayOptions } from './config/options.js'
import { createLogger } from './observability/logger.js'
import { DocRegistry } from './docs/doc-registry.js'
import { ClientConnection, type Access } from './client-endpoint/client-connection.js'
import { TokenError, tokenCovers, verifyToken } from './auth/tokens.js'
import type { ClientEndpointContext } from './client-endpoint/context.js'
import type { DocStore } from './storage/doc-store.js'
import { LevelDocStore } from './storage/level-store.js'
import { MemoryDocStore } from './storage/memory-store.js'
import { GroupCommitter } from './storage/group-commit.js'
import type { HealthReport } from './http/health.js'
import { Mesh, PEER_PATH } from './mesh/mesh.js'
import { AuditLog } from './mesh/audit-log.js'
import type { MeshObserver } from './mesh/mesh-context.js'
import { applyPolicyChange } from './mesh/policy-change.js'

const RELAY_ID_META_KEY = 'relay-id'
export { PEER_PATH }

export interface RelayDependencies {
  /** Use this store instead of the one the options imply (tests, simulation). */
  store?: DocStore
  logger?: Logger
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

export class Relay {
  readonly options: RelayOptions
  readonly logger: Logger
  readonly store: DocStore
  readonly committer: GroupCommitter
  readonly docs: DocRegistry
  relayId = ''
  readonly audit: AuditLog
  mesh: Mesh | null = null
  private readonly meshObserver: MeshObserver
  private readonly connector: SocketConnector
  private readonly listen: boolean
  private readonly deps: RelayDependencies
  private readonly httpServer: http.Server
  private readonly wss: WebSocketServer
  private readonly connections = new Set<ClientConnection>()
  private storageFailed = false
  private started = false
  private closing: Promise<void> | null = null

  constructor(input: unknown, deps: RelayDependencies = {}) {
    this.options = resolveRelayOptions(input)
    const o = this.options
    this.logger = deps.logger ?? createLogger({ level: o.logLevel, region: o.region })
    this.store = deps.store ?? (o.dataDir ? new LevelDocStore(o.dataDir, { durability: o.durability }) : new MemoryDocStore())
    this.committer = new GroupCommitter(this.store, {
      onError: (err) => this.failStorage(err),
    })
    this.docs = new DocRegistry({
      store: this.store,
      idleEvictMs: o.idleEvictMs,
      compactAfterEntries: o.compactAfterEntries,
      logger: this.logger,
      persist: (doc, update) => this.committer.enqueue(doc, update),
      // Once storage has failed, no ack is ever sent again: the state vector
      // could cover writes that were not stored.
      encodeDurableAck: (sv) => (this.healthy ? encodeDurableAck(sv) : null),
      onPersistError: (doc, err) => this.failStorage(err, doc),
    })
    this.audit = new AuditLog(o.dataDir, this.logger)
    this.meshObserver = deps.meshObserver ?? {}
    this.connector = deps.connector ?? wsConnector
    this.listen = deps.listen ?? true
    this.deps = deps
    this.httpServer = http.createServer((req, res) => this.handleHttp(req, res))
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxMessageBytes, perMessageDeflate: false })
    this.httpServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head))
  }

  get port(): number {
    const address = this.httpServer.address()
    return typeof address === 'object' && address ? address.port : 0
  }

  get url(): string {
    return `ws://${this.options.host}:${this.port}`
  }

  /** Resolves when every update applied so far is durable in this relay's store. */
  async flush(): Promise<void> {
    this.docs.flushPending()
    await this.committer.flush()
  }

  get healthy(): boolean {
    return !this.storageFailed && this.store.healthy
  }

  async start(): Promise<this> {
    if (this.started) return this
    this.started = true
    await this.store.open()
    this.relayId = this.options.relayId ?? (await this.loadOrCreateRelayId())
    await applyPolicyChange(this.store, this.options.policy, this.options.region, this.audit, this.logger)
    this.mesh = new Mesh(
      {
        region: this.options.region,
        relayId: this.relayId,
        policy: this.options.policy,
        docs: this.docs,
        store: this.store,
        committer: this.committer,
        logger: this.logger,
        audit: this.audit,
        observer: this.meshObserver,
        maxMessageBytes: this.options.maxMessageBytes,
        highWaterBytes: 1024 * 1024,
        digestIntervalMs: this.options.digestIntervalMs,
        ackTimeoutMs: this.options.peerAckTimeoutMs,
        backoffBaseMs: this.options.peerBackoffBaseMs,
        backoffMaxMs: this.options.peerBackoffMaxMs,
        random: this.deps.random ?? Math.random,
        ...(this.deps.peerDeltaFilter ? { peerDeltaFilter: this.deps.peerDeltaFilter } : {}),
      },
      this.options.peers,
      this.options.peerSecret,
      this.connector,
    )
    const mesh = this.mesh
    this.docs.onEffectiveUpdate((live, update, origin) => mesh.onEffectiveUpdate(live, update, origin))
    if (this.listen) {
      await new Promise<void>((resolve, reject) => {
        this.httpServer.once('error', reject)
        this.httpServer.listen(this.options.port, this.options.host, () => {
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
    if (!this.storageFailed) {
      this.storageFailed = true
      this.logger.error({ code: (err as MeridianError)?.code ?? 'storage-failed', err, doc }, 'storage failed: acknowledgements stop and the relay reports unhealthy')
      for (const conn of this.connections) conn.close(CloseCode.StorageUnavailable, 'storage unavailable')
    }
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
    const url = new URL(req.url ?? '/', 'http://relay')
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const wrapped = new WsSocket(ws)
      if (url.pathname === PEER_PATH) this.connectPeer(wrapped)
      else this.acceptClient(wrapped, req.url ?? '/')
    })
  }

  /** Serves a client socket for `path` (`/<docName>[?token=…]`), whatever transport it came over. */
  connectClient(socket: MessageSocket, path: string): void {
    if (this.closing) return socket.terminate()
    this.acceptClient(socket, path)
  }

  /** Hands an incoming relay-to-relay socket to the mesh. */
  connectPeer(socket: MessageSocket): void {
    if (this.closing || !this.mesh) return socket.terminate()
    this.mesh.accept(socket)
  }

  /**
   * `rawPath` is the request target exactly as sent: a URL parser would
   * resolve `..` and `.` segments and so hand out another document.
   */
  private acceptClient(ws: MessageSocket, rawPath: string): void {
    let docName: string
    try {
      docName = docNameFromUrlPath(rawPath)
    } catch (err) {
      ws.close(CloseCode.InvalidDocName, ((err as Error).message ?? 'invalid document name').slice(0, 120))
      return
    }
    if (!this.options.policy.allows(docName, this.options.region)) {
      const regions = this.regionsFor(docName)
      this.audit.record({ kind: 'client-wrong-region', doc: docName, detail: `may be served by ${regions.join(',')}` })
      ws.close(CloseCode.WrongRegion, `wrong region; regions=${regions.join(',')}`.slice(0, 120))
      return
    }
    if (!this.healthy) {
      ws.close(CloseCode.StorageUnavailable, 'storage unavailable')
      return
    }
    // The connection exists from the first byte so that what the client sends
    // while we authenticate and load is buffered (and capped), not lost.
    const conn = new ClientConnection(ws, docName, this.contextFor())
    this.connections.add(conn)
    const query = rawPath.indexOf('?')
    const token = query >= 0 ? new URLSearchParams(rawPath.slice(query + 1)).get('token') : null
    void this.authorize(token, docName).then(async (access) => {
      if (typeof access === 'object') {
        this.onAuthFailure?.(access.code)
        conn.close(access.code, access.reason)
        return
      }
      let live
      try {
        live = await this.docs.acquire(docName)
      } catch (err) {
        this.logger.error({ code: 'load-failed', doc: docName, err }, 'failed to load a document')
        conn.close(CloseCode.InternalError, 'failed to load document')
        return
      }
      conn.attach(live, access)
    })
  }

  /** Hook for metrics. */
  onAuthFailure: ((code: number) => void) | null = null

  /** The access a token grants for a document, or the close code and reason to refuse it. */
  private async authorize(token: string | null, docName: string): Promise<Access | { code: number; reason: string }> {
    const secret = this.options.authSecret
    if (!secret) return 'write'
    try {
      const claims = await verifyToken(token, secret)
      if (!tokenCovers(claims, docName)) return { code: CloseCode.Forbidden, reason: 'token does not cover this document' }
      return claims.access
    } catch (err) {
      const reason = err instanceof TokenError ? err.code : 'token-invalid'
      return { code: CloseCode.Unauthorized, reason }
    }
  }

  private context: ClientEndpointContext | null = null
  private contextFor(): ClientEndpointContext {
    this.context ??= {
      region: this.options.region,
      relayId: this.relayId,
      logger: this.logger,
      limits: {
        maxMessageBytes: this.options.maxMessageBytes,
        maxBufferedBytes: this.options.maxBufferedBytes,
        maxPreAuthBytes: this.options.maxPreAuthBytes,
        rateLimitPerSecond: this.options.rateLimitPerSecond,
        rateLimitBurst: this.options.rateLimitBurst,
        maxAwarenessIdsPerConnection: this.options.maxAwarenessIdsPerConnection,
        awareness: { maxEntries: this.options.maxAwarenessIdsPerConnection * 4, maxStateBytes: this.options.maxAwarenessStateBytes },
      },
      regionsFor: (doc) => this.regionsFor(doc),
      onConnectionGone: (conn) => this.connections.delete(conn),
    }
    return this.context
  }

  health(): HealthReport {
    return {
      status: this.healthy ? 'ok' : 'degraded',
      region: this.options.region,
      relayId: this.relayId,
      loadedDocs: this.docs.size,
      connections: this.connections.size,
      storage: { healthy: this.healthy, durability: this.options.durability, kind: this.options.dataDir ? 'leveldb' : 'memory' },
      peers: this.mesh?.health() ?? [],
    }
  }

  private handleHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://relay')
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const report = this.health()
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
      res.end(JSON.stringify(report))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
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
    // Close the store first, so a group commit that has not started fails
    // instead of landing after the "crash".
    await this.store.close()
    this.mesh?.close()
    for (const conn of [...this.connections]) conn.terminate()
    for (const ws of this.wss.clients) ws.terminate()
    this.docs.abandon()
    if (this.listen) {
      this.httpServer.closeAllConnections?.()
      await new Promise<void>((resolve) => this.httpServer.close(() => resolve()))
    }
    done()
  }

  private async shutdown(): Promise<void> {
    const closed = this.listen ? new Promise<void>((resolve) => this.httpServer.close(() => resolve())) : Promise.resolve()
    for (const conn of [...this.connections]) conn.close(CloseCode.RelayShutdown, 'relay shutting down')
    for (const ws of this.wss.clients) ws.terminate()
    this.httpServer.closeAllConnections?.()
    this.mesh?.close()
    this.docs.close()
    try {
      await this.committer.close()
    } catch (err) {
      this.logger.error({ code: 'flush-failed', err }, 'final flush failed')
    }
    await this.store.close()
    await this.audit.flush()
    this.wss.close()
    await closed
    this.logger.info('relay stopped')
    this.logger.flush?.()
  }
}
