/**
 * The dashboard as an operator opens it: GET /dashboard on a real relay's
 * own port, with that relay peered to a second region through delayed
 * links, rendered in headless Chromium. After edits both ways the page
 * shows both regions with their documents and connections, both links
 * connected with a lag no shorter than the link's delay and non-zero
 * throughput, and the wrong-region refusal the relay just made; event text
 * from clients stays text.
 */
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { chromium, type Browser, type Page } from 'playwright-core'
import { CloseCode } from '@meridian/core'
import { startCluster, waitUntil, docJson, type Cluster } from '../support/cluster.js'
import { connectRawClient, type RawClient } from '../support/raw-client.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'

/** One-way delay on each link of the pair, so lag has a known floor. */
const LINK_DELAY_MS = 30
const POLICIES = [{ match: 'us-only/**', regions: ['us'] }, { match: '**', regions: '*' }]

let cluster: Cluster | null = null
let browser: Browser | null = null
const clients: RawClient[] = []
afterEach(async () => {
  await browser?.close()
  browser = null
  for (const c of clients.splice(0)) await c.close()
  await cluster?.close()
  cluster = null
})

/** Resolves with the close code of a connection the relay refuses. */
const refusedWith = async (url: string): Promise<number> => {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  const [code] = (await once(ws, 'close')) as [number]
  return code
}

const field = (page: Page, selector: string) => page.locator(selector).textContent()
const msIn = (text: string | null): number => Number(/^(\d+) ms/.exec(text ?? '')?.[1] ?? NaN)

describe('dashboard', () => {
  it('renders a live two-region pair from the relay\'s own port: regions, links, lag, throughput, counts, events', async () => {
    cluster = await startCluster(['eu', 'us'], () => ({ policies: POLICIES }))
    for (const n of cluster.nodes.values()) for (const proxy of n.outbound.values()) proxy.delayMs = LINK_DELAY_MS
    await cluster.connected()
    const eu = cluster.node('eu').relay
    const us = cluster.node('us').relay

    const writer = await connectRawClient(eu.url, 'notes/today')
    clients.push(writer)
    const reader = await connectRawClient(us.url, 'notes/today')
    clients.push(reader)
    // A document only us may hold, asked of eu: refused, and in eu's audit log.
    // Its name carries markup, which the page must show as text.
    const refused = 'us-only/<img src=x id=injected>'
    expect(await refusedWith(`${eu.url}/${encodeURIComponent(refused)}`)).toBe(CloseCode.WrongRegion)

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(`http://127.0.0.1:${eu.port}/dashboard`)
    // The page counts its redraws in body[data-polls]; throughput needs a redraw before the edits.
    await page.waitForFunction(() => Number(document.body.dataset.polls) >= 1)

    writer.doc.getText('t').insert(0, 'written in eu')
    // The reply goes in front of text the reader has seen, so its place is not a race.
    await reader.waitFor(() => reader.doc.getText('t').toString() === 'written in eu', 'the eu edit at the us client')
    reader.doc.getText('t').insert(0, 'us reply, ')
    await waitUntil([eu, us], () => docJson(eu, 'notes/today')?.t === 'us reply, written in eu')

    // Each link's throughput shows up in the first redraw after its bytes grew (its own, per link).
    const link = (from: string, to: string) => `tr[data-link="${from}\u2192${to}"]`
    await Promise.all(['eu\u2192us', 'us\u2192eu'].map((key) => page.waitForFunction(
      (k) => /^[1-9]/.test(document.querySelector(`tr[data-link="${k}"] [data-field="throughput"]`)?.textContent ?? ''),
      key, { timeout: 15_000 },
    )))
    await page.waitForFunction(() => [...document.querySelectorAll('#links [data-field="lag"]')].every((td) => /^\d+ ms/.test(td.textContent ?? '')), undefined, { timeout: 15_000 })

    expect(await field(page, '#self')).toBe('eu')
    expect(await field(page, '#summary')).toMatch(/^2\/2 regions ok · 2\/2 links up · worst lag \d+ ms$/)
    for (const region of ['eu', 'us']) {
      expect(await field(page, `[data-region="${region}"] [data-field="status"]`)).toBe('ok')
      expect(await field(page, `[data-region="${region}"] [data-field="docs"]`)).toBe('1')
      expect(await field(page, `[data-region="${region}"] [data-field="connections"]`)).toBe('1')
      expect(await field(page, `[data-region="${region}"] [data-field="storage"]`)).toBe('healthy, memory, fsync')
      expect(await page.locator(`svg [data-node="${region}"]`).count()).toBe(1)
    }
    for (const [from, to] of [['eu', 'us'], ['us', 'eu']] as const) {
      expect(await field(page, `${link(from, to)} [data-field="state"]`)).toBe('connected')
      expect(await page.locator(`svg [data-link="${from}\u2192${to}"]`).getAttribute('data-state')).toBe('connected')
      // Lag is arrival minus the origin's stamp: at least the link's one-way delay.
      expect(msIn(await field(page, `${link(from, to)} [data-field="lag"]`))).toBeGreaterThanOrEqual(LINK_DELAY_MS)
      expect(await field(page, `${link(from, to)} [data-field="backlog"]`)).toBe('0 docs / 0 B')
    }
    // Links into this relay also show the p95 of the last minute.
    expect(await field(page, `${link('us', 'eu')} [data-field="lag"]`)).toMatch(/^\d+ ms \(p95 \d+ ms\)$/)

    const event = page.locator('#audit tr[data-kind="client-wrong-region"]')
    expect(await event.count()).toBe(1)
    expect(await event.textContent()).toContain(refused)
    expect(await event.textContent()).toContain('may be served by us')
    expect(await page.locator('#injected').count()).toBe(0)
    expect(problems).toEqual([])
  })
})
