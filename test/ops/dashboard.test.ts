/**
 * The dashboard in headless Chromium, over a live two-region pair: after an
 * edit, the page shows both regions, the links as connected with a lag, and
 * the documents; untrusted event text stays text. With MERIDIAN_SCREENSHOT=1
 * it also writes docs/dashboard.png.
 */
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
// Not exported from @meridian/server until relay.ts serves them itself.
import { createHttpRoutes, type HttpRoutes } from '../../packages/server/src/http/routes.js'
import { createRelayMetrics, type RelayMetrics } from '../../packages/server/src/observability/metrics.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))

let cluster: Cluster | null = null
let browser: Browser | null = null
let server: http.Server | null = null
let routes: HttpRoutes | null = null
let metrics: RelayMetrics | null = null
const clients: RawClient[] = []
afterEach(async () => {
  await browser?.close()
  browser = null
  for (const c of clients.splice(0)) await c.close()
  routes?.close()
  if (server) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server!.close(() => resolve()))
  }
  server = null
  await cluster?.close()
  cluster = null
  metrics?.close()
  metrics = null
})

describe('dashboard', () => {
  it('renders the live cluster: regions, connected links with lag, documents, events', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const us = cluster.node('us').relay

    // This relay's routes on a server of the test's own, as relay.ts will serve them.
    metrics = createRelayMetrics()
    metrics.collect(eu)
    routes = createHttpRoutes({ source: eu, metrics, peerHealth: { timeoutMs: 2_000, cacheMs: 500 } })
    const r = routes
    server = http.createServer((req, res) => {
      if (!r.handle(req, res)) res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`

    const writer = await connectRawClient(eu.url, 'notes/today')
    clients.push(writer)
    const reader = await connectRawClient(us.url, 'notes/today')
    clients.push(reader)
    writer.doc.getText('t').insert(0, 'written in eu')
    await waitUntil([eu, us], () => docJson(us, 'notes/today')?.t === 'written in eu')
    eu.audit.record({ kind: 'client-wrong-region', doc: 'hr/<img src=x id=injected>', detail: 'may be served by us' })

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(`${base}/dashboard`)
    // Wait for a redraw that already has the peer's lag (it arrives with us's /healthz).
    await page.waitForFunction(() => /\d+ ms/.test(document.querySelector('tr[data-link="eu\u2192us"] [data-field="lag"]')?.textContent ?? ''), undefined, { timeout: 15_000 })

    expect(await page.locator('#self').textContent()).toBe('eu')
    for (const region of ['eu', 'us']) {
      await expect.poll(() => page.locator(`[data-region="${region}"] [data-field="status"]`).textContent()).toBe('ok')
      expect(Number(await page.locator(`[data-region="${region}"] [data-field="docs"]`).textContent())).toBeGreaterThanOrEqual(1)
      expect(Number(await page.locator(`[data-region="${region}"] [data-field="connections"]`).textContent())).toBe(1)
      expect(await page.locator(`svg [data-node="${region}"]`).count()).toBe(1)
    }
    for (const link of ['eu\u2192us', 'us\u2192eu']) {
      expect(await page.locator(`tr[data-link="${link}"] [data-field="state"]`).textContent()).toBe('connected')
      expect(await page.locator(`svg [data-link="${link}"]`).getAttribute('data-state')).toBe('connected')
    }
    expect(await page.locator('tr[data-link="eu\u2192us"] [data-field="lag"]').textContent()).toMatch(/^\d+ ms/)
    // Event text from clients is shown as text, never parsed as markup.
    expect(await page.locator('#audit tr[data-kind="client-wrong-region"]').textContent()).toContain('hr/<img src=x id=injected>')
    expect(await page.locator('#injected').count()).toBe(0)
    expect(problems).toEqual([])

    if (process.env.MERIDIAN_SCREENSHOT === '1') {
      // Steady edits both ways while the page polls, so throughput shows live figures.
      let n = 0
      const traffic = setInterval(() => {
        writer.doc.getText('t').insert(0, `eu edit ${n++} `)
        reader.doc.getText('t').insert(0, 'us reply ')
      }, 50)
      try {
        await page.waitForFunction(() => Array.from(document.querySelectorAll('#links [data-field="throughput"]')).every((td) => /^[1-9]/.test(td.textContent ?? '')), undefined, { timeout: 15_000 })
        await page.screenshot({ path: SCREENSHOT, fullPage: true })
      } finally {
        clearInterval(traffic)
      }
    }
  })
})
