/**
 * Serves the e2e test page and the client's standalone browser bundle from a
 * local HTTP server on port 0.
 */
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Meridian client e2e</title>
<script type="module">
  import * as meridian from './meridian-client.standalone.js'
  window.meridian = meridian
  document.title = 'ready'
</script>
`

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json' }

export interface PageServer {
  url: string
  close(): Promise<void>
}

export const servePage = async (bundleDir: string): Promise<PageServer> => {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
      res.end(PAGE)
      return
    }
    const name = path.slice(1)
    if (!/^meridian-client\.standalone\.js(\.map)?$/.test(name)) {
      res.writeHead(404).end()
      return
    }
    readFile(join(bundleDir, name)).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream', 'cache-control': 'no-store' })
        res.end(body)
      },
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
