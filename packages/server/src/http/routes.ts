/**
 * The relay's operational HTTP endpoints, as one request handler the relay's
 * http.Server delegates to:
 *
 *   GET /healthz      health JSON (200, or 503 once storage failed)
 *   GET /metrics      Prometheus text format (404 when metrics are off)
 *   GET /dashboard    the live dashboard page (static; polls /api/cluster)
 *   GET /api/cluster  the cluster as seen from this relay (cluster-view.ts)
 *
 * `handle` answers these paths and returns true, or returns false for any
 * other path so the relay can answer it (404, or its own routes).
 */
import { createHash } from 'node:crypto'
import type http from 'node:http'
import type { Logger } from 'pino'
import { buildClusterView, type ClusterSource } from './cluster-view.js'
import { PeerHealthFetcher, type PeerHealthOptions } from './peer-health.js'
import { DASHBOARD_HTML, DASHBOARD_SCRIPT, DASHBOARD_STYLE } from './dashboard-page.js'
import type { LagSummary } from '../observability/lag-window.js'

/** The part of RelayMetrics the routes use. */
export interface RoutesMetrics {
  readonly contentType: string
  text(): Promise<string>
  lagSummary?(peerRegion: string): LagSummary | null
}

export interface HttpRoutesOptions {
  /** The relay (it satisfies ClusterSource). */
  source: ClusterSource
  metrics?: RoutesMetrics | null
  /** Bounds on fetching peers' /healthz for /api/cluster. */
  peerHealth?: PeerHealthOptions
  logger?: Logger
}

export interface HttpRoutes {
  /** Answers the operational paths; false for anything else. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean
  /** Idempotent: aborts peer requests in flight. */
  close(): void
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

/**
 * The page's inline script and style are allowed by hash and nothing else
 * is: event data (document names, peer-reported fields) is untrusted, and
 * even if the page had an injection bug no injected script could run.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_SCRIPT)}`,
  `style-src ${sha256(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const PATHS = new Set(['/healthz', '/metrics', '/dashboard', '/dashboard/', '/api/cluster'])

export const createHttpRoutes = (options: HttpRoutesOptions): HttpRoutes => {
  const fetcher = new PeerHealthFetcher(options.peerHealth)
  const metrics = options.metrics ?? null
  let closed = false

  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const sendError = (req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string, message: string): void => {
    send(req, res, status, 'application/json', JSON.stringify({ error: { code, message } }))
  }

  /** Async routes: a failure becomes a 500 with a code, and is logged; never an unhandled rejection. */
  const answer = (req: http.IncomingMessage, res: http.ServerResponse, code: string, work: () => Promise<void>): void => {
    work().catch((err: unknown) => {
      options.logger?.error({ code, err }, 'operational endpoint failed')
      if (!res.headersSent) sendError(req, res, 500, code, 'internal error')
      else res.destroy()
    })
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    // Not `new URL()`: it throws on targets Node accepts (e.g. `//[`).
    const path = (req.url ?? '/').split(/[?#]/, 1)[0] ?? '/'
    if (!PATHS.has(path)) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(req, res, 405, 'method-not-allowed', 'use GET')
      return true
    }
    if (closed) {
      sendError(req, res, 503, 'relay-closing', 'the relay is shutting down')
      return true
    }
    switch (path) {
      case '/healthz': {
        const report = options.source.health()
        // Readable cross-origin, so browser clients can probe health and round-trip time.
        send(req, res, report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report), { 'access-control-allow-origin': '*' })
        return true
      }
      case '/metrics':
        if (!metrics) {
          sendError(req, res, 404, 'metrics-disabled', 'metrics are not enabled on this relay')
          return true
        }
        answer(req, res, 'metrics-failed', async () => send(req, res, 200, metrics.contentType, await metrics.text()))
        return true
      case '/dashboard':
        send(req, res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, { 'content-security-policy': DASHBOARD_CSP, 'referrer-policy': 'no-referrer' })
        return true
      case '/dashboard/':
        // The page fetches its data by a relative URL; one canonical address keeps it resolving.
        res.writeHead(308, { location: '../dashboard', 'content-length': '0' })
        res.end()
        return true
      default:
        answer(req, res, 'cluster-view-failed', async () => {
          const view = await buildClusterView({
            source: options.source,
            fetcher,
            lagSummary: metrics?.lagSummary ? (region) => metrics.lagSummary!(region) : null,
          })
          send(req, res, 200, 'application/json', JSON.stringify(view))
        })
        return true
    }
  }

  return {
    handle,
    close: () => {
      if (closed) return
      closed = true
      fetcher.close()
    },
  }
}
