/**
 * `meridian dev` as a new user runs it: the built CLI as a child process,
 * on free ports and a fresh data folder. It prints the demo and three
 * relay URLs that all answer; each region keeps a LevelDB under the data
 * folder; an edit made through eu's relay reaches us and ap no sooner than
 * their links' one-way delays (40 and 120 ms), and the relays' lag figures
 * and the dashboard say so; SIGINT stops everything and exits 0 promptly.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import type { HealthReport } from '@meridian/server'
import { makeTempDir } from '../support/temp-dir.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { waitForDoc } from '../support/wait.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'
import { startDevProcess, type DevProcess } from './dev-process.js'

const REGIONS = ['eu', 'us', 'ap']
/** One-way delays of `meridian dev`'s links from eu (DEV_DELAYS); node timers may fire a ms or two early. */
const DELAY_FROM_EU = { us: 40, ap: 120 } as const
const TIMER_SLACK_MS = 3

let dev: DevProcess | null = null
let browser: Browser | null = null
let removeDir: (() => Promise<void>) | null = null
let dataRoot = ''
const clients: RawClient[] = []

beforeAll(async () => {
  const dir = await makeTempDir('meridian-dev-cli-')
  removeDir = dir.remove
  dataRoot = join(dir.path, 'data')
  dev = await startDevProcess(['--port', '0', '--data', dataRoot, '--log-level', 'warn'])
})

afterAll(async () => {
  await browser?.close()
  for (const c of clients.splice(0)) await c.close()
  await dev?.stop('SIGKILL')
  await removeDir?.()
})

const region = (name: string) => dev!.regions.find((r) => r.region === name)!
const health = async (name: string): Promise<HealthReport> => {
  const res = await fetch(`${region(name).http}/healthz`)
  expect(res.status).toBe(200)
  return (await res.json()) as HealthReport
}

describe('meridian dev (the CLI)', () => {
  it('prints the demo and three relays; everything answers; data folders are LevelDBs', async () => {
    expect(dev!.dataDir).toBe(dataRoot)
    expect(dev!.regions.map((r) => r.region)).toEqual(REGIONS)
    const demo = await fetch(dev!.demo)
    expect(demo.status).toBe(200)
    expect(await demo.text()).toContain('Meridian — one document, three regions')
    const bundle = await fetch(new URL('/meridian-client.js', dev!.demo))
    expect(bundle.status).toBe(200)
    expect((await bundle.text()).length).toBeGreaterThan(1000)
    for (const name of REGIONS) {
      expect(region(name).dashboard).toBe(`${region(name).http}/dashboard`)
      const page = await fetch(region(name).dashboard)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<title>Meridian dashboard</title>')
      const h = await health(name)
      expect(h).toMatchObject({ status: 'ok', region: name, storage: { healthy: true, kind: 'leveldb' } })
      // The CLI prints its URLs once every link is up.
      expect(h.peers.map((p) => [p.region, p.state, p.inboundConnected]).sort()).toEqual(
        REGIONS.filter((r) => r !== name).map((r) => [r, 'connected', true]).sort(),
      )
      expect((await stat(join(dataRoot, name))).isDirectory()).toBe(true)
      expect((await stat(join(dataRoot, name, 'CURRENT'))).isFile()).toBe(true)
    }
  })

  it('replicates an edit from eu to us and ap with the links\' delays, and the lags show it', async () => {
    const doc = 'test/dev-cli'
    const writer = await connectRawClient(region('eu').ws, doc)
    const readers = { us: await connectRawClient(region('us').ws, doc), ap: await connectRawClient(region('ap').ws, doc) }
    clients.push(writer, readers.us, readers.ap)
    // Each client has its relay's (empty) state before the edit, so arrival is the edit itself.
    for (const c of [writer, readers.us, readers.ap]) await c.waitFor(() => c.messages.some((m) => m.type === 'sync-step2'), 'the initial sync')

    const text = 'typed in eu'
    const arrivals = Object.fromEntries(Object.entries(readers).map(([name, c]) => [name,
      waitForDoc(c.doc, () => c.doc.getText('t').toString() === text).then(() => performance.now())])) as Record<'us' | 'ap', Promise<number>>
    const sentAt = performance.now()
    writer.doc.getText('t').insert(0, text)
    const usAfter = (await arrivals.us) - sentAt
    const apAfter = (await arrivals.ap) - sentAt
    expect(usAfter).toBeGreaterThanOrEqual(DELAY_FROM_EU.us - TIMER_SLACK_MS)
    expect(apAfter).toBeGreaterThanOrEqual(DELAY_FROM_EU.ap - TIMER_SLACK_MS)
    expect(apAfter).toBeGreaterThan(usAfter)

    // Each receiving relay measured eu's delta from eu's time stamp.
    for (const name of ['us', 'ap'] as const) {
      const fromEu = (await health(name)).peers.find((p) => p.region === 'eu')!
      expect(fromEu.lagMs).toBeGreaterThanOrEqual(DELAY_FROM_EU[name] - TIMER_SLACK_MS)
    }
    const metrics = await (await fetch(`${region('ap').http}/metrics`)).text()
    const lastLag = Number(/^meridian_peer_last_lag_seconds\{peer_region="eu"\} (\S+)$/m.exec(metrics)?.[1])
    expect(lastLag).toBeGreaterThanOrEqual((DELAY_FROM_EU.ap - TIMER_SLACK_MS) / 1000)

    // eu's dashboard: three regions, six connected links, and eu's lags as its peers measured them.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(region('eu').dashboard)
    const lagOf = (to: string) => page.locator(`tr[data-link="eu\u2192${to}"] [data-field="lag"]`).textContent()
    await page.waitForFunction(() => [...document.querySelectorAll('#links tr[data-link^="eu"] [data-field="lag"]')].filter((td) => /^\d+ ms/.test(td.textContent ?? '')).length === 2, undefined, { timeout: 15_000 })
    expect(await page.locator('#regions [data-region]').count()).toBe(3)
    for (const name of REGIONS) expect(await page.locator(`[data-region="${name}"] [data-field="status"]`).textContent()).toBe('ok')
    expect(await page.locator('#links tr[data-link]').count()).toBe(6)
    expect(await page.locator('#links tr[data-link][data-state="connected"]').count()).toBe(6)
    expect(Number(/^(\d+) ms/.exec((await lagOf('us')) ?? '')?.[1])).toBeGreaterThanOrEqual(DELAY_FROM_EU.us - TIMER_SLACK_MS)
    expect(Number(/^(\d+) ms/.exec((await lagOf('ap')) ?? '')?.[1])).toBeGreaterThanOrEqual(DELAY_FROM_EU.ap - TIMER_SLACK_MS)
    // With deltas on every link each label carries its full text (lag, with a p95 into eu; rate):
    // the three pairs' labels stay inside the graph and clear of each other.
    readers.us.doc.getText('t').insert(0, 'us ')
    readers.ap.doc.getText('t').insert(0, 'ap ')
    await waitForDoc(writer.doc, () => /^(us ap |ap us )typed in eu$/.test(writer.doc.getText('t').toString()))
    await page.waitForFunction(() => [...document.querySelectorAll('#links [data-field="lag"]')].filter((td) => /^\d+ ms/.test(td.textContent ?? '')).length === 6, undefined, { timeout: 15_000 })
    const labels = await page.evaluate(() => {
      const svg = document.getElementById('graph') as unknown as SVGSVGElement
      const boxes = [...svg.querySelectorAll('.label')].map((g) => (g as SVGGraphicsElement).getBBox())
      return { width: svg.viewBox.baseVal.width, boxes: boxes.map((b) => ({ x: b.x, y: b.y, w: b.width, h: b.height })) }
    })
    expect(labels.boxes).toHaveLength(3)
    for (const [i, a] of labels.boxes.entries()) {
      expect(a.x).toBeGreaterThanOrEqual(0)
      expect(a.x + a.w).toBeLessThanOrEqual(labels.width)
      for (const b of labels.boxes.slice(i + 1)) {
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y
        expect(apart, `labels overlap: ${JSON.stringify([a, b])}`).toBe(true)
      }
    }
    expect(problems).toEqual([])
  })

  it('stops on SIGINT: exit code 0, promptly', async () => {
    for (const c of clients.splice(0)) await c.close()
    const started = performance.now()
    const exit = await dev!.stop('SIGINT')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(performance.now() - started).toBeLessThan(5_000)
    // Nothing listens any more.
    await expect(fetch(`${region('eu').http}/healthz`)).rejects.toThrow()
  })
})
