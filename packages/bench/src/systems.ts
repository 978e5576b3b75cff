/**
 * The servers under test and how to start each one in its own process.
 * Every figure in the report is also given as a ratio to `meridian` (the
 * relay with its default durability, fsync).
 */
import { startChild, type Child } from './proc/children.js'
import type { Target } from './wire/bench-connection.js'
import type { Flavor } from './wire/frames.js'

export type StoreKind = 'meridian' | 'y-leveldb' | 'hocuspocus'

export interface SystemDef {
  id: string
  /** What it is and how it persists, for the report. */
  describe: string
  flavor: Flavor
  /** Answers sync step 1 (false only for the bare relay). */
  syncs: boolean
  store: StoreKind | null
  script: string
  params: (dataDir: string, extra: Record<string, unknown>) => Record<string, unknown>
}

export const REFERENCE = 'meridian'

export const SYSTEMS: SystemDef[] = [
  {
    id: 'meridian',
    describe: 'Meridian relay, LevelDB, durability fsync (default)',
    flavor: 'yws',
    syncs: true,
    store: 'meridian',
    script: 'servers/meridian.js',
    params: (dataDir, extra) => ({ region: 'eu', dataDir, durability: 'fsync', ...extra }),
  },
  {
    id: 'meridian-buffered',
    describe: 'Meridian relay, LevelDB, durability buffered',
    flavor: 'yws',
    syncs: true,
    store: 'meridian',
    script: 'servers/meridian.js',
    params: (dataDir, extra) => ({ region: 'eu', dataDir, durability: 'buffered', ...extra }),
  },
  {
    id: 'y-websocket',
    describe: 'y-websocket 2.1.0 bin/utils.cjs, y-leveldb persistence (YPERSISTENCE)',
    flavor: 'yws',
    syncs: true,
    store: 'y-leveldb',
    script: 'servers/y-websocket.js',
    params: (dataDir) => ({ dataDir }),
  },
  {
    id: 'y-websocket-server',
    describe: '@y/websocket-server 0.1.1 (the reference server repackaged), y-leveldb persistence (YPERSISTENCE)',
    flavor: 'yws',
    syncs: true,
    store: 'y-leveldb',
    script: 'servers/y-websocket-server.js',
    params: (dataDir) => ({ dataDir }),
  },
  {
    id: 'hocuspocus-4.7',
    describe: 'Hocuspocus 4.7.0, Database extension on LevelDB (debounced full-state store)',
    flavor: 'hocuspocus',
    syncs: true,
    store: 'hocuspocus',
    script: 'servers/hocuspocus.js',
    params: (dataDir) => ({ version: 4, dataDir }),
  },
  {
    id: 'hocuspocus-3.4',
    describe: 'Hocuspocus 3.4.4, Database extension on LevelDB (debounced full-state store)',
    flavor: 'hocuspocus',
    syncs: true,
    store: 'hocuspocus',
    script: 'servers/hocuspocus.js',
    params: (dataDir) => ({ version: 3, dataDir }),
  },
  {
    id: 'bare-ws',
    describe: 'bare ws relay: forwards bytes to the room, no Yjs, no storage (the floor)',
    flavor: 'yws',
    syncs: false,
    store: null,
    script: 'servers/bare-ws.js',
    params: () => ({}),
  },
]

export interface RunningServer {
  system: SystemDef
  child: Child
  target: Target
  port: number
  dataDir: string
}

export async function startServer(system: SystemDef, dataDir: string, extra: Record<string, unknown> = {}): Promise<RunningServer> {
  const child = startChild({
    script: system.script,
    name: `${system.id} server`,
    params: system.params(dataDir, extra),
    execArgv: ['--expose-gc', '--no-warnings'],
  })
  try {
    const ready = await child.waitEvent<{ port: number; url: string }>('ready', 30_000)
    return { system, child, port: ready.port, dataDir, target: { url: ready.url, flavor: system.flavor, syncs: system.syncs } }
  } catch (err) {
    await child.kill()
    throw err
  }
}
