/**
 * The client side of a relay: admits a socket for one document (name,
 * placement, health, token), buffers what it sends meanwhile, and attaches
 * it to the loaded document. Every refusal is a named close code.
 */
import type { Logger } from 'pino'
import { CloseCode, docNameFromUrlPath } from '@meridian/core'
import type { RelayOptions } from '../config/options.js'
import type { DocRegistry } from '../docs/doc-registry.js'
import type { AuditLog } from '../mesh/audit-log.js'
import type { RelayMetrics } from '../observability/metrics.js'
import type { MessageSocket } from '../transport/socket.js'
import { TokenError, tokenCovers, verifyToken } from '../auth/tokens.js'
import { ClientConnection, type Access } from './client-connection.js'
import type { ClientEndpointContext } from './context.js'

export interface ClientEndpointDeps {
  options: RelayOptions
  logger: Logger
  audit: AuditLog
  docs: DocRegistry
  metrics: RelayMetrics
  relayId: () => string
  regionsFor: (doc: string) => string[]
  healthy: () => boolean
}

/** Refused sockets waiting for their close handshake, at most (beyond it they are dropped at once). */
const MAX_CLOSING_REFUSALS = 1024

export class ClientEndpoint {
  readonly connections = new Set<ClientConnection>()
  private readonly refused = new Set<MessageSocket>()
  private readonly closing = new Set<ClientConnection>()
  private context: ClientEndpointContext | null = null

  constructor(private readonly deps: ClientEndpointDeps) {}

  /**
   * `rawPath` is the request target exactly as sent: a URL parser would
   * resolve `..` and `.` segments and so hand out another document.
   */
  accept(socket: MessageSocket, rawPath: string): void {
    const { options, metrics } = this.deps
    metrics.watchSocket(socket, 'client')
    const refuse = (code: number, reason: string): void => {
      metrics.clientClosed(code)
      // Held until the close handshake ends, so a shutdown can cut it short;
      // past a bound (a flood of refusals), dropped without the handshake.
      if (this.refused.size >= MAX_CLOSING_REFUSALS) return socket.terminate()
      this.refused.add(socket)
      socket.on('close', () => this.refused.delete(socket))
      socket.close(code, reason.slice(0, 120))
    }
    let docName: string
    try {
      docName = docNameFromUrlPath(rawPath)
    } catch (err) {
      return refuse(CloseCode.InvalidDocName, (err as Error).message ?? 'invalid document name')
    }
    if (!options.policy.allows(docName, options.region)) {
      const regions = this.deps.regionsFor(docName)
      this.deps.audit.record({ kind: 'client-wrong-region', doc: docName, detail: `may be served by ${regions.join(',')}` })
      metrics.clientWrongRegion()
      return refuse(CloseCode.WrongRegion, `wrong region; regions=${regions.join(',')}`)
    }
    if (!this.deps.healthy()) return refuse(CloseCode.StorageUnavailable, 'storage unavailable')
    if (this.connections.size >= options.maxClientConnections) return refuse(CloseCode.TooManyConnections, 'relay at its connection limit')
    // The connection exists from the first byte so that what the client sends
    // while we authenticate and load is buffered (and capped), not lost.
    const conn = new ClientConnection(socket, docName, this.contextFor())
    this.connections.add(conn)
    const query = rawPath.indexOf('?')
    const token = query >= 0 ? new URLSearchParams(rawPath.slice(query + 1)).get('token') : null
    void this.authorize(token, docName).then(async (access) => {
      if (typeof access === 'object') {
        metrics.authFailure(access.code)
        conn.close(access.code, access.reason)
        return
      }
      let live
      try {
        live = await this.deps.docs.acquire(docName)
      } catch (err) {
        this.deps.logger.error({ code: 'load-failed', doc: docName, err }, 'failed to load a document')
        conn.close(CloseCode.InternalError, 'failed to load document')
        return
      }
      conn.attach(live, access)
    })
  }

  /** The access a token grants for a document, or the close code and reason to refuse it. */
  private async authorize(token: string | null, docName: string): Promise<Access | { code: number; reason: string }> {
    const secret = this.deps.options.authSecret
    if (!secret) return 'write'
    try {
      const claims = await verifyToken(token, secret)
      if (!tokenCovers(claims, docName)) return { code: CloseCode.Forbidden, reason: 'token does not cover this document' }
      return claims.access
    } catch (err) {
      return { code: CloseCode.Unauthorized, reason: err instanceof TokenError ? err.code : 'token-invalid' }
    }
  }

  private contextFor(): ClientEndpointContext {
    const { options, metrics } = this.deps
    this.context ??= {
      region: options.region,
      relayId: this.deps.relayId(),
      logger: this.deps.logger,
      limits: {
        maxMessageBytes: options.maxMessageBytes,
        maxBufferedBytes: options.maxBufferedBytes,
        maxPreAuthBytes: options.maxPreAuthBytes,
        rateLimitPerSecond: options.rateLimitPerSecond,
        rateLimitBurst: options.rateLimitBurst,
        maxAwarenessIdsPerConnection: options.maxAwarenessIdsPerConnection,
        awareness: { maxEntries: options.maxAwarenessIdsPerConnection * 4, maxStateBytes: options.maxAwarenessStateBytes },
      },
      regionsFor: (doc) => this.deps.regionsFor(doc),
      healthy: () => this.deps.healthy(),
      onConnectionGone: (conn) => this.connections.delete(conn),
      onClosedByRelay: (code) => metrics.clientClosed(code),
      onReadOnlyWrite: () => metrics.readOnlyWriteDropped(),
    }
    return this.context
  }

  closeAll(code: number, reason: string): void {
    for (const conn of [...this.connections]) {
      conn.close(code, reason)
      // Still tracked until the close handshake ends, so a shutdown can cut it short.
      this.closing.add(conn)
      conn.onSocketClosed = () => this.closing.delete(conn)
    }
  }

  /** Drops every socket at once: on shutdown (after closeAll) and on a simulated crash. */
  terminateAll(): void {
    for (const conn of [...this.connections, ...this.closing]) conn.terminate()
    this.closing.clear()
    for (const socket of [...this.refused]) socket.terminate()
    this.refused.clear()
  }
}
