/**
 * Round-trip measurement to a region. The relay serves HTTP on its WebSocket
 * port, so `GET /healthz` costs one small request and no document load.
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
 * Pages are subject to CORS and the relay sends no CORS headers, so a page
 * asks in 'no-cors' mode: the response is opaque (no status), which still
 * times the round trip and proves the relay answers. Elsewhere (Node) the
 * status is readable and a 503 (storage failing) counts as unhealthy.
 */
const inPage = (): boolean => typeof (globalThis as { location?: unknown }).location !== 'undefined'

export const measureHealthz: MeasureRtt = async (endpoint, signal) => {
  const started = performance.now()
  // Outside pages, ask the server to close the connection: a pooled socket
  // would outlive the provider, and a fresh one measures the path as it is now.
  const init: RequestInit = inPage() ? { mode: 'no-cors' } : { headers: { connection: 'close' } }
  const response = await fetch(healthUrlOf(endpoint), { ...init, signal, cache: 'no-store' })
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
