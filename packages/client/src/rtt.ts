/**
 * Round-trip measurement and health check of a region. The relay serves HTTP
 * on its WebSocket port, so `GET /healthz` costs one small request and no
 * document load.
 */
import { ClientError } from './errors.js'
import type { RegionEndpoint } from './router.js'

/** Resolves with the round trip in milliseconds; rejects when the region is unreachable or unhealthy. */
export type MeasureRtt = (endpoint: RegionEndpoint, signal: AbortSignal) => Promise<number>

export function healthUrlOf(endpoint: RegionEndpoint): string {
  if (endpoint.healthUrl) return endpoint.healthUrl
  const url = new URL(endpoint.url)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  url.pathname = '/healthz'
  url.search = ''
  url.hash = ''
  return url.toString()
}

/**
 * A page's relay is another origin. Relays send `access-control-allow-origin: *`
 * on /healthz, so a page asks in 'cors' mode and reads the status, as Node
 * does: a 503 (storage failing) counts as unhealthy. A relay or proxy that
 * sends no CORS header makes that request fail as an unreachable one would;
 * the page then asks again in 'no-cors' mode, whose opaque answer still
 * times the round trip and proves the relay answers, but hides a 503.
 */
const inPage = (): boolean => typeof (globalThis as { location?: unknown }).location !== 'undefined'

export const measureHealthz: MeasureRtt = async (endpoint, signal) => {
  const url = healthUrlOf(endpoint)
  // Outside pages, ask the server to close the connection: a pooled socket
  // would outlive the provider, and a fresh one measures the path as it is now.
  if (!inPage()) return timedGet(url, { headers: { connection: 'close' } }, endpoint, signal)
  try {
    return await timedGet(url, { mode: 'cors' }, endpoint, signal)
  } catch (err) {
    // An error status is an answer; only a failed request may be CORS hiding one.
    if (err instanceof ClientError || signal.aborted) throw err
    return timedGet(url, { mode: 'no-cors' }, endpoint, signal)
  }
}

async function timedGet(url: string, init: RequestInit, endpoint: RegionEndpoint, signal: AbortSignal): Promise<number> {
  const started = performance.now()
  const response = await fetch(url, { ...init, signal, cache: 'no-store' })
  // Read the body so the connection goes back to the pool instead of lingering.
  await response.arrayBuffer()
  if (response.type !== 'opaque' && !response.ok) {
    throw new ClientError('region-unhealthy', `${endpoint.region} is unhealthy: HTTP ${response.status}`)
  }
  return performance.now() - started
}

/** Runs `measure` with a deadline; null when it failed or ran out of time. */
export async function probe(
  measure: MeasureRtt,
  endpoint: RegionEndpoint,
  timeoutMs: number,
  parent: AbortSignal,
): Promise<number | null> {
  if (parent.aborted) return null
  const controller = new AbortController()
  // Cleared here as well as below, so a destroy leaves no timer even while the request winds down.
  const abort = (): void => {
    clearTimeout(timer)
    controller.abort()
  }
  const timer = setTimeout(abort, timeoutMs)
  parent.addEventListener('abort', abort)
  try {
    const rtt = await measure(endpoint, controller.signal)
    return Number.isFinite(rtt) && rtt >= 0 ? rtt : null
  } catch {
    // An unreachable region is an expected outcome of a probe, not an error:
    // the caller records it as unhealthy.
    return null
  } finally {
    clearTimeout(timer)
    parent.removeEventListener('abort', abort)
  }
}
