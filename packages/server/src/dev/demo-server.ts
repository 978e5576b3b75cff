/**
 * The demo page's server: the page, the client bundle, and a small API to
 * cut and heal a region's links.
 */
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { DevCluster } from './dev-cluster.js'
import { renderDemoPage, type DemoRegion } from './demo-page.js'

/** The standalone browser build of @meridian/client (Yjs included, re-exported as Y). */
const CLIENT_BUNDLE = fileURLToPath(new URL('../../../client/dist/browser/meridian-client.standalone.js', import.meta.url))

export const createDemoServer = (cluster: DevCluster, regions: DemoRegion[]): http.Server =>
  http.createServer((req, res) => {
    const path = (req.url ?? '/').split(/[?#]/, 1)[0]
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    if (req.method === 'GET' && path === '/') return send(200, 'text/html; charset=utf-8', renderDemoPage(regions))
    if (req.method === 'GET' && path === '/meridian-client.js') {
      readFile(CLIENT_BUNDLE).then(
        (js) => send(200, 'text/javascript; charset=utf-8', js),
        () => send(500, 'text/plain', 'client bundle missing: run `pnpm install` (it builds packages/client)\n'),
      )
      return
    }
    if (path === '/favicon.ico') return send(204, 'image/x-icon', '')
    if (req.method === 'GET' && path === '/api/links') {
      return send(200, 'application/json', JSON.stringify(Object.fromEntries(regions.map((r) => [r.region, cluster.isCut(r.region) ? 'cut' : 'up']))))
    }
    const m = /^\/api\/links\/([a-z0-9-]+)\/(cut|heal)$/.exec(path ?? '')
    if (req.method === 'POST' && m && regions.some((r) => r.region === m[1])) {
      if (m[2] === 'cut') cluster.cut(m[1]!)
      else cluster.heal(m[1]!)
      return send(200, 'application/json', JSON.stringify({ region: m[1], links: m[2] === 'cut' ? 'cut' : 'up' }))
    }
    send(404, 'text/plain', 'not found\n')
  })
