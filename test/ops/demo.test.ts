/**
 * `meridian dev`, what a new user runs: three regions with delayed links and
 * the demo page. In headless Chromium, text typed in the eu pane arrives in
 * the us and ap panes, each pane shows "saved", and cutting a region's links
 * then healing them converges edits made on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { startDevCluster, type DevCluster } from '@meridian/server'
import { makeTempDir } from '../support/temp-dir.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'

let cluster: DevCluster
let browser: Browser
let removeDir: () => Promise<void>

beforeAll(async () => {
  const dir = await makeTempDir()
  removeDir = dir.remove
  cluster = await startDevCluster({ port: 0, host: '127.0.0.1', dataDir: dir.path, logLevel: 'silent' })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await cluster?.close()
  await removeDir?.()
})

describe('the local multi-region demo', () => {
  it('replicates an edit from one region pane to the others, and converges after a cut', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${cluster.demoUrl}?doc=test/demo`)
    await page.waitForFunction(() => [...document.querySelectorAll('.status')].every((s) => s.textContent === 'synced'))
    await page.locator('[data-region="eu"] textarea').fill('hello from eu')
    await page.waitForFunction(() => [...document.querySelectorAll('textarea')].every((t) => t.value === 'hello from eu'))
    await page.waitForFunction(() => document.querySelector('[data-region="eu"] .saved')!.textContent === 'saved')

    await page.locator('[data-region="ap"] button').click()
    await page.waitForFunction(() => document.querySelector('[data-region="ap"] .links')!.textContent === 'links cut')
    await page.locator('[data-region="ap"] textarea').press('End')
    await page.locator('[data-region="ap"] textarea').pressSequentially(' +ap')
    await page.locator('[data-region="us"] textarea').press('Home')
    await page.locator('[data-region="us"] textarea').pressSequentially('us+ ')
    // While cut, eu sees us's edit but not ap's.
    await page.waitForFunction(() => (document.querySelector('[data-region="eu"] textarea') as HTMLTextAreaElement).value.startsWith('us+ '))
    expect(await page.locator('[data-region="eu"] textarea').inputValue()).not.toContain('+ap')
    await page.locator('[data-region="ap"] button').click()
    await page.waitForFunction(() => {
      const values = [...document.querySelectorAll('textarea')].map((t) => (t as HTMLTextAreaElement).value)
      return values.every((v) => v === values[0] && v.includes('+ap') && v.startsWith('us+ '))
    }, null, { timeout: 30_000 })
    expect(errors).toEqual([])
    await page.close()
  })
})
