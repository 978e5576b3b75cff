/**
 * `meridian dev`: a local multi-region cluster on one machine — three
 * relays (eu, us, ap) with LevelDB under one data folder, every inter-region
 * link through a LinkProxy that adds a one-way delay and can be cut — plus
 * the demo page. For trying Meridian, not for production.
 *
 * It resolves once every link is up (or after LINKS_UP_TIMEOUT_MS, with a
 * warning): the URLs it prints then lead to a cluster that replicates, and
 * a first edit does not wait for a handshake over a 120 ms link.
 */
import http from 'node:http'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { Relay } from '../relay.js'
import { LinkProxy } from './link-proxy.js'
import { createDemoServer } from './demo-server.js'

export interface DevClusterOptions {
  /** Port of the demo page; relays use the next ports (eu +1, us +2, ap +3); 0 for free ports. */
  port: number
  host: string
  dataDir: string
  logLevel: string
}

export const DEV_REGIONS = ['eu', 'us', 'ap'] as const
/** One-way delay of each inter-region link, in ms (roughly real distances). */
export const DEV_DELAYS: Record<string, number> = { 'eu-us': 40, 'us-ap': 80, 'ap-eu': 120 }

const delayBetween = (a: string, b: string): number => DEV_DELAYS[`${a}-${b}`] ?? DEV_DELAYS[`${b}-${a}`] ?? 0

/** Handshakes take a few round trips over links of up to 120 ms: seconds are plenty. */
const LINKS_UP_TIMEOUT_MS = 10_000

/** Resolves true when every relay has both links to every peer up, false at the deadline. */
const linksUp = (relays: Relay[], timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const done = (up: boolean): void => {
      clearTimeout(timer)
      for (const r of relays) r.mesh?.off('session-open', check)
      resolve(up)
    }
    const check = (): void => {
      if (relays.every((r) => r.mesh?.fullyConnected())) done(true)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    for (const r of relays) r.mesh?.on('session-open', check)
    check()
  })

export interface DevCluster {
  relays: Map<string, Relay>
  demoUrl: string
  cut(region: string): void
  heal(region: string): void
  isCut(region: string): boolean
  close(): Promise<void>
}

export const startDevCluster = async (options: DevClusterOptions, logger?: Logger): Promise<DevCluster> => {
  const relays = new Map<string, Relay>()
  const proxies: { from: string; to: string; proxy: LinkProxy }[] = []
  const cutRegions = new Set<string>()
  const closeAll = async (): Promise<void> => {
    for (const r of relays.values()) await r.close()
    for (const p of proxies) await p.proxy.close()
  }
  try {
    for (const [i, region] of DEV_REGIONS.entries()) {
      const relay = new Relay(
        {
          region,
          // Port 0 (tests) puts everything on free ports.
          port: options.port === 0 ? 0 : options.port + 1 + i,
          host: options.host,
          dataDir: join(options.dataDir, region),
          durability: 'buffered',
          logLevel: options.logLevel,
          peerAckTimeoutMs: 5_000,
        },
        logger ? { logger: logger.child({ region }) } : {},
      )
      relays.set(region, await relay.start())
    }
    for (const from of DEV_REGIONS) {
      for (const to of DEV_REGIONS) {
        if (from === to) continue
        const proxy = new LinkProxy({ targetPort: relays.get(to)!.port, targetHost: options.host, delayMs: delayBetween(from, to) })
        await proxy.start()
        proxies.push({ from, to, proxy })
        relays.get(from)!.addPeer({ region: to, url: `ws://127.0.0.1:${proxy.port}` })
      }
    }
    if (!(await linksUp([...relays.values()], LINKS_UP_TIMEOUT_MS))) {
      const log = logger ?? relays.get(DEV_REGIONS[0])!.logger
      log.warn({ code: 'dev-links-slow', timeoutMs: LINKS_UP_TIMEOUT_MS }, 'not every inter-region link is up yet; they keep reconnecting')
    }
  } catch (err) {
    await closeAll()
    throw err
  }
  const linksOf = (region: string) => proxies.filter((p) => p.from === region || p.to === region)
  const cluster: DevCluster = {
    relays,
    get demoUrl() {
      const address = demo.address()
      return `http://${options.host}:${typeof address === 'object' && address ? address.port : options.port}/`
    },
    cut: (region) => {
      cutRegions.add(region)
      for (const p of linksOf(region)) p.proxy.cutLink()
    },
    heal: (region) => {
      cutRegions.delete(region)
      // A link stays cut while either of its ends is cut.
      for (const p of linksOf(region)) if (!cutRegions.has(p.from) && !cutRegions.has(p.to)) p.proxy.heal()
    },
    isCut: (region) => cutRegions.has(region),
    close: async () => {
      await new Promise<void>((resolve) => demo.close(() => resolve()))
      demo.closeAllConnections()
      await closeAll()
    },
  }
  const demo: http.Server = createDemoServer(cluster, DEV_REGIONS.map((r) => ({ region: r, url: relays.get(r)!.url, delays: DEV_REGIONS.filter((o) => o !== r).map((o) => [o, delayBetween(r, o)] as const) })))
  await new Promise<void>((resolve, reject) => {
    demo.once('error', reject)
    demo.listen(options.port, options.host, () => resolve())
  }).catch(async (err: unknown) => {
    await closeAll()
    throw err
  })
  return cluster
}
