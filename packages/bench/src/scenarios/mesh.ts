/**
 * A Meridian cluster for the mesh scenarios: one relay process per region,
 * every relay dialing every other through a delayed LinkProxy (hosted in a
 * separate process). Closing stops everything and removes the data dirs.
 */
import type { HealthReport, PeerHealth } from '@meridian/server'
import { startChild, type Child } from '../proc/children.js'
import { removeTempDir, tempDir } from '../proc/tmp.js'
import { startServer, type RunningServer, type SystemDef } from '../systems.js'
import { sleep } from './context.js'

export interface MeshCluster {
  relays: Map<string, RunningServer>
  links: Child
  relay(region: string): RunningServer
  health(region: string): Promise<HealthReport>
  /** Link counters of `from`'s outbound link to `to` (it carries from's deltas and to's acks). */
  counters(from: string, to: string): Promise<NonNullable<PeerHealth['counters']>>
  cut(a: string, b: string): Promise<void>
  heal(a: string, b: string): Promise<void>
  close(): Promise<void>
}

export const linkName = (from: string, to: string): string => `${from}->${to}`

export async function startMesh(system: SystemDef, regions: string[], delayMs: (a: string, b: string) => number, extra: Record<string, unknown> = {}): Promise<MeshCluster> {
  const relays = new Map<string, RunningServer>()
  const dirs: string[] = []
  const links = startChild({ script: 'workers/link-host.js', name: 'link host', execArgv: ['--no-warnings'] })
  const close = async (): Promise<void> => {
    await Promise.all([...relays.values()].map((r) => r.child.stop()))
    await links.stop(5000)
    for (const d of dirs) removeTempDir(d)
  }
  try {
    for (const region of regions) {
      const dir = tempDir(`${system.id}-${region}`)
      dirs.push(dir)
      relays.set(region, await startServer(system, dir, { region, ...extra }))
    }
    const relay = (region: string): RunningServer => {
      const r = relays.get(region)
      if (!r) throw new Error(`no relay for ${region}`)
      return r
    }
    for (const from of regions) {
      for (const to of regions) {
        if (from === to) continue
        const port = await links.request<number>('create', { name: linkName(from, to), targetPort: relay(to).port, delayMs: delayMs(from, to) })
        await relay(from).child.request('addPeer', { region: to, url: `ws://127.0.0.1:${port}` })
      }
    }
    const deadline = Date.now() + 30_000
    for (;;) {
      const states = await Promise.all(regions.map((r) => relay(r).child.request<boolean>('fullyConnected')))
      if (states.every(Boolean)) break
      if (Date.now() > deadline) throw new Error('relays did not connect within 30 s')
      await sleep(50)
    }
    const health = (region: string): Promise<HealthReport> => relay(region).child.request<HealthReport>('health')
    return {
      relays,
      links,
      relay,
      health,
      counters: async (from, to) => {
        const peer = (await health(from)).peers.find((p) => p.region === to)
        if (!peer?.counters) throw new Error(`${from} has no counters for ${to} (state ${peer?.state})`)
        return peer.counters
      },
      cut: async (a, b) => {
        await links.request('cut', [linkName(a, b), linkName(b, a)])
      },
      heal: async (a, b) => {
        await links.request('heal', [linkName(a, b), linkName(b, a)])
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
