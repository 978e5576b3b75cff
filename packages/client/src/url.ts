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
