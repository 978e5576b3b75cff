/**
 * The operational HTTP routes on a real relay pair's own ports: /healthz,
 * /metrics, /dashboard (with a CSP that allows exactly its inline script
 * and style), and /api/cluster, which reads the peer's /healthz through its
 * link URL. Only the closed state is checked on routes of the test's own.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { createHttpRoutes, type HttpRoutes } from '../../src/http/routes.js'
import type { ClusterView } from '../../src/http/cluster-view.js'
import { parsePromText, valueOf } from './prom-text.js'
import { closeClient, editOnce, nextUpdate, startMeteredPair, type MeteredPair } from './metered-pair.js'

let pair: MeteredPair | null = null
let server: http.Server | null = null
let routes: HttpRoutes | null = null
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) await closeClient(ws)
  routes?.close()
  if (server) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server!.close(() => resolve()))
  }
  server = null
  routes = null
  await pair?.close()
  pair = null
})

/** eu's HTTP base: the relay serves the routes on its own port. */
const serveEu = (p: MeteredPair): string => `http://127.0.0.1:${p.eu.relay.port}`

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

describe('operational routes', () => {
  it('serve /healthz, /metrics and /dashboard, and leave other paths to the relay', async () => {
    pair = await startMeteredPair()
    const base = serveEu(pair)

    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', region: 'eu', relayId: pair.eu.relay.relayId, peers: [{ region: 'us', state: 'connected' }] })

    const metrics = await fetch(`${base}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const samples = parsePromText(await metrics.text()).samples
    expect(valueOf(samples, 'meridian_peer_up', { peer_region: 'us', link: 'outbound' })).toBe(1)

    const page = await fetch(`${base}/dashboard`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await page.text()
    const csp = page.headers.get('content-security-policy') ?? ''
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!
    expect(csp).toContain(`script-src ${hash(script)}`)
    expect(csp).toContain(`style-src ${hash(style)}`)
    expect(csp).toContain("default-src 'none'")

    const head = await fetch(`${base}/healthz`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const post = await fetch(`${base}/metrics`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(await post.json()).toMatchObject({ error: { code: 'method-not-allowed' } })
    const redirect = await fetch(`${base}/dashboard/`, { redirect: 'manual' })
    expect(redirect.status).toBe(308)
    expect((await fetch(`${base}/doc-name-not-a-route`)).status).toBe(404)
  })

  it('answer 503 relay-closing once closed (the relay closes them first when it shuts down)', async () => {
    pair = await startMeteredPair()
    routes = createHttpRoutes({ source: pair.eu.relay, metrics: pair.eu.metrics })
    const r = routes
    server = http.createServer((req, res) => {
      if (!r.handle(req, res)) res.writeHead(404).end('not found')
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    r.close()
    r.close()
    const closed = await fetch(`${base}/healthz`)
    expect(closed.status).toBe(503)
    expect(await closed.json()).toMatchObject({ error: { code: 'relay-closing' } })
  })

  it('/api/cluster shows both regions, their documents and the links with state and lag', async () => {
    pair = await startMeteredPair()
    const base = serveEu(pair)
    const arrived = nextUpdate(pair.us.relay, 'cluster/doc', 'peer')
    const { ws } = await editOnce(pair.eu.relay, 'cluster/doc', 'hello')
    sockets.push(ws)
    await arrived
    const res = await fetch(`${base}/api/cluster`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const view = (await res.json()) as ClusterView
    expect(view.self).toBe('eu')
    expect(view.regions.map((r) => [r.region, r.self, r.status, r.loadedDocs])).toEqual([
      ['eu', true, 'ok', 1],
      ['us', false, 'ok', 1],
    ])
    expect(view.regions[0]!.connections).toBe(1)
    const link = (from: string, to: string) => view.links.find((l) => l.from === from && l.to === to)!
    // eu's deltas to us: state from eu, lag as us measured it (fetched from us's /healthz).
    expect(link('eu', 'us')).toMatchObject({ state: 'connected', backlogDocs: 0, policyHashMatch: true })
    expect(link('eu', 'us').lagMs).toBeGreaterThanOrEqual(0)
    expect(link('eu', 'us').deltas).toBe(1)
    expect(link('us', 'eu')).toMatchObject({ state: 'connected', lagMs: null, deltas: 0 })
    expect(view.links).toHaveLength(2)
  })

  it('/api/cluster reports an unreachable peer with an error code and lists audit events newest first', async () => {
    pair = await startMeteredPair()
    const base = serveEu(pair)
    pair.eu.relay.audit.record({ kind: 'client-wrong-region', doc: '<img src=x onerror=alert(1)>', detail: 'first' })
    pair.eu.relay.audit.record({ kind: 'policy-mismatch', peerRegion: 'us', detail: 'second' })
    // Cut eu's way to us: its /healthz is then unreachable through the link URL.
    pair.eu.proxy.cutLink()
    const view = (await (await fetch(`${base}/api/cluster`)).json()) as ClusterView
    const us = view.regions.find((r) => r.region === 'us')!
    expect(us.status).toBe('unreachable')
    expect(us.error?.code).toMatch(/^peer-/)
    expect(view.audit.map((e) => e.detail)).toEqual(['second', 'first'])
    expect(view.audit[1]!.doc).toBe('<img src=x onerror=alert(1)>')
  })
})
