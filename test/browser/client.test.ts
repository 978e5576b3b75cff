/**
 * The client's browser bundle in real headless Chromium: two pages connected
 * to two different regions edit one document and converge; one page is cut
 * off from every relay, edits, reloads (its edits come back from IndexedDB),
 * reconnects, and nothing is lost. Health checks read /healthz across
 * origins (a 503 is unhealthy) and still work against a relay without CORS.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { MemoryDocStore, type LinkProxy } from '@meridian/server'
import { bundleClient } from '../../packages/client/scripts/bundle.mjs'
import { startCluster, docJson, type Cluster } from '../support/cluster.js'
import { makeTempDir } from '../support/temp-dir.js'
import { connectRawClient } from '../support/raw-client.js'
import { frontProxy } from '../client/support.js'
import { servePage, type PageServer } from './page-server.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

let browser: Browser
let server: PageServer
let leanBundle = ''
let removeBundle: () => Promise<void>
beforeAll(async () => {
  const dir = await makeTempDir('meridian-bundle-')
  removeBundle = dir.remove
  const sizes = await bundleClient(dir.path)
  leanBundle = await readFile(sizes.lean.file, 'utf8')
  console.log(`browser bundle: ${sizes.lean.minified} B minified / ${sizes.lean.gzip} B gzip; standalone ${sizes.standalone.minified} / ${sizes.standalone.gzip}`)
  server = await servePage(dir.path)
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await removeBundle?.()
})

let cluster: Cluster | null = null
const proxies: LinkProxy[] = []
const contexts: BrowserContext[] = []
const httpServers: http.Server[] = []
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close()
  for (const h of httpServers.splice(0)) {
    h.closeAllConnections()
    await new Promise<void>((resolve) => h.close(() => resolve()))
  }
  for (const p of proxies.splice(0)) await p.close()
  await cluster?.close()
  cluster = null
})

interface PageOptions {
  regions: { region: string; url: string }[]
  preferredRegion: string
}

/** Opens the test page and starts a provider on `docName` in it. */
const openProvider = async (context: BrowserContext, docName: string, options: PageOptions, page?: Page): Promise<Page> => {
  const p = page ?? (await context.newPage())
  const errors: string[] = []
  p.on('pageerror', (err) => errors.push(err.message))
  if (!page) await p.goto(server.url)
  await p.waitForFunction(() => document.title === 'ready')
  await p.evaluate(
    ({ docName, options }) => {
      const w = window as unknown as Record<string, any>
      const { MeridianProvider, Y } = w.meridian
      const doc = new Y.Doc()
      w.errors = []
      w.doc = doc
      w.provider = new MeridianProvider(doc, docName, {
        ...options,
        backoff: { initialMs: 50, maxMs: 300 },
        healthCheckIntervalMs: 200,
        onError: (err: Error) => w.errors.push(String(err)),
      })
    },
    { docName, options },
  )
  expect(errors).toEqual([])
  return p
}

const text = (page: Page): Promise<string> => page.evaluate(() => (window as any).doc.getText('t').toString())
const insert = (page: Page, value: string): Promise<void> =>
  page.evaluate((v) => {
    const t = (window as any).doc.getText('t')
    t.insert(t.length, v)
  }, value)
const waitText = (page: Page, predicate: string): Promise<unknown> =>
  page.waitForFunction((src) => new Function('t', `return ${src}`)((window as any).doc.getText('t').toString()), predicate, { timeout: 20_000 })

describe('browser bundle in Chromium', () => {
  it('imports nothing but Yjs, y-protocols and lib0 (no Node built-ins)', () => {
    const specifiers = new Set([...leanBundle.matchAll(/\bfrom\s*"([^"]+)"/g)].map((m) => m[1]!))
    expect(specifiers.size).toBeGreaterThan(0)
    for (const s of specifiers) expect(s).toMatch(/^(yjs|y-protocols\/[a-z]+|lib0\/[a-z]+)$/)
  })

  it('two pages on two regions converge; a page cut off edits, reloads from IndexedDB, comes back, and loses nothing', async () => {
    cluster = await startCluster(['eu', 'us'])
    await cluster.connected()
    // Page A reaches both regions only through proxies, so it can be cut off while the page server stays up.
    const aEu = await frontProxy(cluster.node('eu').relay.port)
    const aUs = await frontProxy(cluster.node('us').relay.port)
    proxies.push(aEu, aUs)
    const regionsA = [
      { region: 'eu', url: `ws://127.0.0.1:${aEu.port}` },
      { region: 'us', url: `ws://127.0.0.1:${aUs.port}` },
    ]
    const regionsB = [
      { region: 'eu', url: cluster.node('eu').relay.url },
      { region: 'us', url: cluster.node('us').relay.url },
    ]
    const contextA = await browser.newContext()
    const contextB = await browser.newContext()
    contexts.push(contextA, contextB)
    const docName = 'shared/e2e'
    const a = await openProvider(contextA, docName, { regions: regionsA, preferredRegion: 'eu' })
    const b = await openProvider(contextB, docName, { regions: regionsB, preferredRegion: 'us' })
    await a.evaluate(() => (window as any).provider.whenSynced())
    await b.evaluate(() => (window as any).provider.whenSynced())
    expect(await a.evaluate(() => (window as any).provider.region)).toBe('eu')
    expect(await b.evaluate(() => (window as any).provider.region)).toBe('us')

    await insert(a, '[a1]')
    await insert(b, '[b1]')
    await waitText(a, "t.includes('[a1]') && t.includes('[b1]')")
    await waitText(b, "t.includes('[a1]') && t.includes('[b1]')")
    expect(await text(a)).toBe(await text(b))
    await a.evaluate(() => (window as any).provider.whenDurable())

    // Cut A off from every relay.
    aEu.cutLink()
    aUs.cutLink()
    await a.waitForFunction(() => (window as any).provider.status !== 'synced')
    await insert(a, '[a-offline-1]')
    await a.evaluate(() => {
      const t = (window as any).doc.getText('t')
      t.delete(0, 4) // drops "[a1]" or "[b1]": a deletion made offline
    })
    await insert(a, '[a-offline-2]')
    const beforeReload = await text(a)
    expect(await a.evaluate(() => (window as any).provider.durable)).toBe(false)
    await a.evaluate(() => (window as any).provider.whenStoredLocally())

    // Reload while still cut off: the edits come back from IndexedDB.
    await a.reload()
    await openProvider(contextA, docName, { regions: regionsA, preferredRegion: 'eu' }, a)
    await a.evaluate(() => (window as any).provider.whenLoaded())
    expect(await text(a)).toBe(beforeReload)
    expect(await a.evaluate(() => (window as any).provider.synced)).toBe(false)
    await insert(a, '[a-after-reload]')
    expect(await text(b)).not.toContain('[a-offline-1]')

    // Back online: everything reaches the other region's page.
    aEu.heal()
    aUs.heal()
    await a.evaluate(() => (window as any).provider.whenSynced())
    await a.evaluate(() => (window as any).provider.whenDurable())
    const finalA = await text(a)
    await waitText(b, `t === ${JSON.stringify(finalA)}`)
    for (const piece of ['[a-offline-1]', '[a-offline-2]', '[a-after-reload]']) expect(finalA).toContain(piece)
    expect(finalA.startsWith('[a1]') || finalA.startsWith('[b1]')).toBe(true)
    expect(finalA.length).toBe(beforeReload.length + '[a-after-reload]'.length)
    expect(await a.evaluate(() => (window as any).errors)).toEqual([])
    expect(await b.evaluate(() => (window as any).errors)).toEqual([])
  })

  it("follows the browser's offline and online events", async () => {
    cluster = await startCluster(['eu'])
    const regions = [{ region: 'eu', url: cluster.node('eu').relay.url }]
    const context = await browser.newContext()
    contexts.push(context)
    const page = await openProvider(context, 'shared/online', { regions, preferredRegion: 'eu' })
    await page.evaluate(() => (window as any).provider.whenSynced())
    await page.evaluate(() => {
      const w = window as any
      w.statuses = []
      w.provider.on('status', (e: { status: string }) => w.statuses.push(e.status))
    })
    await context.setOffline(true)
    await page.waitForFunction(() => (window as any).provider.status === 'offline')
    expect(await page.evaluate(() => navigator.onLine)).toBe(false)
    await insert(page, 'while the browser was offline')
    await context.setOffline(false)
    await page.evaluate(() => (window as any).provider.whenSynced())
    await page.evaluate(() => (window as any).provider.whenDurable())
    expect(await page.evaluate(() => (window as any).statuses)).toEqual(['offline', 'connecting', 'connected', 'synced'])
    expect(docJson(cluster.node('eu').relay, 'shared/online')?.t).toBe('while the browser was offline')
  })

  it('reads /healthz across origins: a relay whose storage failed (503) is unhealthy', async () => {
    const euStore = new MemoryDocStore()
    cluster = await startCluster(['eu', 'us'], () => ({}), (region) => (region === 'eu' ? { store: euStore } : {}))
    const eu = cluster.node('eu').relay
    // Break eu's disk: the first write fails, the relay closes its clients and answers /healthz with 503.
    euStore.failWrites()
    const writer = await connectRawClient(eu.url, 'shared/broken')
    writer.doc.getText('t').insert(0, 'x')
    expect((await writer.closed).code).toBe(4011)
    expect((await fetch(`http://127.0.0.1:${eu.port}/healthz`)).status).toBe(503)

    const context = await browser.newContext()
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(server.url)
    await page.waitForFunction(() => document.title === 'ready')
    const regions = [
      { region: 'eu', url: eu.url },
      { region: 'us', url: cluster.node('us').relay.url },
    ]
    const health = await page.evaluate(async (regions) => {
      const w = window as unknown as Record<string, any>
      const { MeridianProvider, Y } = w.meridian
      const seen: string[] = []
      w.provider = new MeridianProvider(new Y.Doc(), 'shared/health', { regions, persistence: false, onError: () => {} })
      w.provider.on('region-health', (e: { region: string; healthy: boolean }) => seen.push(`${e.region}:${e.healthy}`))
      await w.provider.whenSynced()
      return seen.sort()
    }, regions)
    expect(health).toEqual(['eu:false', 'us:true'])
    expect(await page.evaluate(() => (window as any).provider.region)).toBe('us')
  })

  it('still checks a relay that sends no CORS header (opaque answer: reachable)', async () => {
    const bare = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
    httpServers.push(bare)
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
    const address = bare.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const context = await browser.newContext()
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(server.url)
    await page.waitForFunction(() => document.title === 'ready')
    const outcome = await page.evaluate(async (healthUrl) => {
      const { measureHealthz } = (window as any).meridian
      try {
        const ms = await measureHealthz({ region: 'bare', url: 'ws://127.0.0.1:1', healthUrl }, new AbortController().signal)
        return typeof ms === 'number' && ms >= 0 ? 'reachable' : `odd ${ms}`
      } catch (err) {
        return `failed: ${(err as { code?: string }).code ?? String(err)}`
      }
    }, `http://127.0.0.1:${port}/healthz`)
    expect(outcome).toBe('reachable')
  })
})
