/**
 * Regenerates docs/demo.png and docs/dashboard.png from what `pnpm start`
 * shows: the built `meridian dev` CLI (three regions, LevelDB in a fresh
 * temp folder, 40/80/120 ms links) on the README's ports, edits typed into
 * the demo page's panes, then eu's dashboard while the panes keep typing.
 *
 *   npx -y pnpm@10.34.8 run build
 *   npx -y pnpm@10.34.8 exec tsx test/ops/screenshots.ts [--port 7100]
 *
 * Not a test (vitest only runs *.test.ts); it exits non-zero if a page
 * never reaches the state worth capturing.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { chromium, type Browser, type Page } from 'playwright-core'
import { makeTempDir } from '../support/temp-dir.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'
import { startDevProcess, type DevProcess } from './dev-process.js'

const DEMO_PNG = fileURLToPath(new URL('../../docs/demo.png', import.meta.url))
const DASHBOARD_PNG = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
/** How long a page may take to show what is captured (links of up to 120 ms, 2 s dashboard polls). */
const SETTLE_MS = 30_000

const { values } = parseArgs({ options: { port: { type: 'string', default: '7100' } } })

const pane = (page: Page, region: string) => page.locator(`[data-region="${region}"] textarea`)

/** Resolves once every pane holds the same text and says synced and saved. */
const converged = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => {
    const texts = [...document.querySelectorAll('textarea')].map((t) => t.value)
    const badges = [...document.querySelectorAll('.status, .saved')].map((b) => b.textContent)
    return texts.length === 3 && texts.every((t) => t === texts[0]) && badges.every((b) => b === 'synced' || b === 'saved')
  }, undefined, { timeout: SETTLE_MS })

const captureDemo = async (browser: Browser, dev: DevProcess): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 560 } })
  await page.goto(dev.demo)
  await page.waitForFunction(() => [...document.querySelectorAll('.status')].every((s) => s.textContent === 'synced'), undefined, { timeout: SETTLE_MS })
  // Typed key by key, as a person would: each keystroke is an update that crosses the links.
  await pane(page, 'eu').pressSequentially('Hello from Europe, typed in the eu pane.', { delay: 15 })
  await converged(page)
  await pane(page, 'ap').press('Control+End')
  await pane(page, 'ap').pressSequentially('\nAnd a reply from Asia-Pacific.', { delay: 15 })
  await converged(page)
  await pane(page, 'us').press('Control+End')
  await pane(page, 'us').pressSequentially('\nUS: got both.', { delay: 15 })
  await converged(page)
  await pane(page, 'us').blur()
  await page.screenshot({ path: DEMO_PNG })
  return page
}

/** eu's dashboard once every link shows a lag and live throughput, while the demo panes keep typing. */
const captureDashboard = async (browser: Browser, dev: DevProcess, demo: Page): Promise<void> => {
  const eu = dev.regions.find((r) => r.region === 'eu')!
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
  await page.goto(eu.dashboard)
  const ready = page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#links tr[data-link]')]
    const lagged = rows.filter((r) => /^\d+ ms/.test(r.querySelector('[data-field="lag"]')?.textContent ?? ''))
    const flowing = rows.filter((r) => /^[1-9]/.test(r.querySelector('[data-field="throughput"]')?.textContent ?? ''))
    return rows.length === 6 && lagged.length === 6 && flowing.length === 6
  }, undefined, { timeout: SETTLE_MS })
  let done = false
  void ready.finally(() => (done = true)).catch(() => {})
  // Each region types in turn, so that every link carries deltas between two polls.
  for (let i = 0; !done; i++) {
    const region = dev.regions[i % dev.regions.length]!.region
    await pane(demo, region).press('Control+End')
    await pane(demo, region).pressSequentially(` ${region}${i}`, { delay: 20 })
  }
  await ready
  await page.screenshot({ path: DASHBOARD_PNG, fullPage: true })
}

const main = async (): Promise<void> => {
  const dir = await makeTempDir('meridian-screenshots-')
  let dev: DevProcess | null = null
  let browser: Browser | null = null
  try {
    dev = await startDevProcess(['--port', values.port, '--data', dir.path, '--log-level', 'warn'])
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    const demo = await captureDemo(browser, dev)
    await captureDashboard(browser, dev, demo)
    process.stdout.write(`wrote ${DEMO_PNG}\nwrote ${DASHBOARD_PNG}\n`)
  } finally {
    await browser?.close()
    const exit = await dev?.stop('SIGINT')
    await dir.remove()
    if (exit && exit.code !== 0) process.stderr.write(`meridian dev exited with ${exit.code ?? exit.signal}\n`)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots failed: ${(err as Error)?.stack ?? String(err)}\n`)
  process.exitCode = 1
})
