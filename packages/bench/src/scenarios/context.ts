/** What every scenario gets, and helpers that always clean up what they start. */
import type { Profile } from '../config.js'
import type { Report } from '../report/report.js'
import { startChild, type Child } from '../proc/children.js'
import { removeTempDir, tempDir } from '../proc/tmp.js'
import { startServer, type RunningServer, type SystemDef } from '../systems.js'

export interface RunContext {
  profile: Profile
  report: Report
  systems: SystemDef[]
  log: (message: string) => void
}

/** Starts a server on a fresh data directory, runs `fn`, then stops the server and removes the directory. */
export async function withServer<T>(system: SystemDef, extra: Record<string, unknown>, fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const dir = tempDir(system.id)
  let server: RunningServer | null = null
  try {
    server = await startServer(system, dir, extra)
    return await fn(server)
  } finally {
    if (server) await server.child.stop()
    removeTempDir(dir)
  }
}

/** A load-generator or helper process (never the process of the server under test). */
export async function withWorker<T>(script: string, name: string, fn: (worker: Child) => Promise<T>): Promise<T> {
  const worker = startChild({ script, name, execArgv: ['--no-warnings'] })
  try {
    return await fn(worker)
  } finally {
    await worker.stop(5000)
  }
}

export const errorText = (err: unknown): string => ((err as Error)?.message ?? String(err)).split('\n')[0]!.slice(0, 300)

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
