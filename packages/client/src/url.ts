import { ClientError } from './errors.js'
import type { TokenSource } from './options.js'
import type { RegionEndpoint } from './router.js'

/**
 * `<region url>/<encoded doc name>[?token=…]`: the relay reads the document
 * name from the raw path, so a `/` inside a name must travel as %2F.
 */
export function documentUrl(endpoint: RegionEndpoint, docName: string, token: string | null, params: Record<string, string>): string {
  const query = new URLSearchParams(params)
  if (token !== null) query.set('token', token)
  const qs = query.toString()
  return `${endpoint.url.replace(/\/+$/, '')}/${encodeURIComponent(docName)}${qs ? `?${qs}` : ''}`
}

/** The token for one connection attempt; a function is asked anew each time, so it can refresh. */
export async function resolveToken(source: TokenSource | undefined): Promise<string | null> {
  if (source === undefined) return null
  const token = typeof source === 'function' ? await source() : source
  if (typeof token !== 'string') throw new ClientError('token-failed', 'the token function must return a string')
  return token
}
