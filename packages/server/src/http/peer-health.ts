/**
 * Reads peers' /healthz for the dashboard, through this relay, bounded:
 * every request has a deadline and a body cap, at most one request per peer
 * is in flight, and answers are cached for a moment, so a dashboard left
 * open in many tabs costs the peers one request per peer per cache period.
 *
 * Only URLs from this relay's own peer configuration are fetched (never one
 * a request or a peer's report names), so the endpoint cannot be used to
 * make the relay call arbitrary addresses. A peer's answer is untrusted input
 * and is parsed with a schema that keeps only the fields the view uses.
 */
import http from 'node:http'
import https from 'node:https'
import { z } from 'zod'
import { MeridianError } from '@meridian/core'

export type PeerHealthErrorCode = 'peer-url-invalid' | 'peer-timeout' | 'peer-unreachable' | 'peer-http-status' | 'peer-bad-response' | 'peer-too-large' | 'peer-region-mismatch' | 'peer-fetch-closed'

export class PeerHealthError extends MeridianError {
  declare readonly code: PeerHealthErrorCode
  constructor(code: PeerHealthErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'PeerHealthError'
  }
}

const name = z.string().max(128)
const count = z.number().finite().nonnegative()
const countersSchema = z.object({
  framesOut: count, framesIn: count, wireBytesOut: count, wireBytesIn: count,
  rawUpdateBytesOut: count, rawUpdateBytesIn: count, deltasOut: count, deltasIn: count,
})
const peerSchema = z.object({
  region: name,
  state: z.enum(['connecting', 'connected', 'disconnected']),
  relayId: name.nullable(),
  policyHashMatch: z.boolean().nullable(),
  lagMs: z.number().finite().nullable(),
  backlogDocs: count,
  backlogBytes: count,
  inboundConnected: z.boolean(),
  counters: countersSchema.nullable().optional(),
})
const reportSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  region: name,
  relayId: name,
  loadedDocs: count,
  connections: count,
  storage: z.object({ healthy: z.boolean(), durability: z.string().max(32), kind: z.string().max(32) }).optional(),
  peers: z.array(peerSchema).max(256),
})

/** The part of a peer's /healthz the cluster view uses. */
export type RemoteHealth = z.output<typeof reportSchema>

export type PeerHealthResult =
  | { ok: true; report: RemoteHealth; fetchedAt: number }
  | { ok: false; code: PeerHealthErrorCode; message: string; fetchedAt: number }

export interface PeerHealthOptions {
  /** Deadline of one request. */
  timeoutMs?: number
  /** How long an answer (or a failure) is reused. */
  cacheMs?: number
  /** Larger bodies are cut off; a real report is a few kB. */
  maxBodyBytes?: number
  now?: () => number
}

/** ws://host:port/base → http://host:port/base/healthz (the peer serves HTTP on its WebSocket port). */
export const healthUrlOf = (wsUrl: string): URL => {
  let url: URL
  try {
    url = new URL(wsUrl)
  } catch (cause) {
    throw new PeerHealthError('peer-url-invalid', `not a URL: ${wsUrl}`, { cause })
  }
  if (url.protocol === 'ws:') url.protocol = 'http:'
  else if (url.protocol === 'wss:') url.protocol = 'https:'
  else if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PeerHealthError('peer-url-invalid', `unsupported scheme ${url.protocol}`)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/healthz`
  url.search = ''
  url.hash = ''
  return url
}

interface Entry {
  result: PeerHealthResult | null
  pending: Promise<PeerHealthResult> | null
}

export class PeerHealthFetcher {
  private readonly timeoutMs: number
  private readonly cacheMs: number
  private readonly maxBodyBytes: number
  private readonly now: () => number
  private readonly entries = new Map<string, Entry>()
  private readonly inFlight = new Set<http.ClientRequest>()
  private closed = false

  constructor(options: PeerHealthOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 800
    this.cacheMs = options.cacheMs ?? 1_500
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024
    this.now = options.now ?? Date.now
  }

  /** The peer's report, from cache when fresh; never rejects. */
  get(region: string, wsUrl: string): Promise<PeerHealthResult> {
    if (this.closed) return Promise.resolve(this.failure('peer-fetch-closed', 'closed'))
    const key = `${region}\n${wsUrl}`
    let entry = this.entries.get(key)
    if (!entry) {
      entry = { result: null, pending: null }
      this.entries.set(key, entry)
    }
    if (entry.result && this.now() - entry.result.fetchedAt < this.cacheMs) return Promise.resolve(entry.result)
    if (entry.pending) return entry.pending
    const e = entry
    e.pending = this.fetch(region, wsUrl).then((result) => {
      e.result = result
      e.pending = null
      return result
    })
    return e.pending
  }

  /** Idempotent: aborts requests in flight and forgets the cache. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const req of this.inFlight) req.destroy(new PeerHealthError('peer-fetch-closed', 'the relay is closing'))
    this.inFlight.clear()
    this.entries.clear()
  }

  private failure(code: PeerHealthErrorCode, message: string): PeerHealthResult {
    return { ok: false, code, message, fetchedAt: this.now() }
  }

  private async fetch(region: string, wsUrl: string): Promise<PeerHealthResult> {
    try {
      const body = await this.getJson(healthUrlOf(wsUrl))
      const parsed = reportSchema.safeParse(body)
      if (!parsed.success) return this.failure('peer-bad-response', `not a health report: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      if (parsed.data.region !== region) return this.failure('peer-region-mismatch', `expected region ${region}, the peer reports ${parsed.data.region}`)
      return { ok: true, report: parsed.data, fetchedAt: this.now() }
    } catch (err) {
      const e = err instanceof PeerHealthError ? err : new PeerHealthError('peer-unreachable', (err as Error)?.message ?? String(err), { cause: err })
      return this.failure(e.code, e.message)
    }
  }

  private getJson(url: URL): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http
      // agent: false — one short-lived socket per request, so nothing stays
      // pooled (open) after the relay or the test closes.
      const req = client.get(url, { agent: false, headers: { accept: 'application/json' } })
      this.inFlight.add(req)
      let settled = false
      // The first outcome wins: destroying the request also ends or errors
      // the response, and that later event must not replace the real reason.
      const finish = (err: PeerHealthError | null, body?: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        this.inFlight.delete(req)
        if (err) {
          req.destroy()
          reject(err)
        } else resolve(body)
      }
      const asError = (err: Error): PeerHealthError =>
        err instanceof PeerHealthError ? err : new PeerHealthError('peer-unreachable', err.message, { cause: err })
      const deadline = setTimeout(() => finish(new PeerHealthError('peer-timeout', `no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
      req.on('error', (err) => finish(asError(err)))
      req.on('response', (res) => {
        // 503 is a degraded relay's report, still worth showing.
        if (res.statusCode !== 200 && res.statusCode !== 503) {
          finish(new PeerHealthError('peer-http-status', `HTTP ${res.statusCode ?? '?'}`))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength
          if (size > this.maxBodyBytes) finish(new PeerHealthError('peer-too-large', `report over ${this.maxBodyBytes} bytes`))
          else chunks.push(chunk)
        })
        res.on('error', (err) => finish(asError(err)))
        res.on('end', () => {
          let body: unknown
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch (cause) {
            finish(new PeerHealthError('peer-bad-response', 'not JSON', { cause }))
            return
          }
          finish(null, body)
        })
      })
    })
  }
}
