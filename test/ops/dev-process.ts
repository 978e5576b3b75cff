/**
 * Runs `meridian dev` (what `pnpm start` runs) as a child process through
 * the built CLI and reads the URLs it prints. Used by the CLI test and the
 * screenshot script, so both see exactly what a new user sees.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { CLI_PATH } from '../support/relay-process.js'

export interface DevRegionUrls {
  region: string
  ws: string
  dashboard: string
  /** http://host:port of the relay (health, metrics, dashboard). */
  http: string
}

export interface DevProcess {
  child: ChildProcess
  demo: string
  dataDir: string
  regions: DevRegionUrls[]
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` (if still running) and resolves on exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const READY = /Press Ctrl-C to stop\./
const DATA = /three regions listening, data in (.+)$/m
const DEMO = /^\s+demo\s+(http:\/\/\S+)$/m
const REGION = /^\s+([a-z0-9-]+)\s+(ws:\/\/\S+)\s+dashboard\s+(http:\/\/\S+)$/gm

/** Parses the lines `meridian dev` prints once it is ready. */
export const parseDevOutput = (out: string): Omit<DevProcess, 'child' | 'output' | 'exited' | 'stop'> => {
  const demo = DEMO.exec(out)?.[1]
  const dataDir = DATA.exec(out)?.[1]
  const regions = [...out.matchAll(REGION)].map(([, region, ws, dashboard]) => ({
    region: region!, ws: ws!, dashboard: dashboard!, http: ws!.replace(/^ws/, 'http'),
  }))
  if (!demo || !dataDir || regions.length === 0) throw new Error(`unexpected output of meridian dev:\n${out}`)
  return { demo, dataDir, regions }
}

/** Starts `meridian dev <args>` and resolves once it printed its URLs. */
export const startDevProcess = async (args: string[]): Promise<DevProcess> => {
  const child = spawn(process.execPath, [CLI_PATH, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (!READY.test(out)) return
      child.stdout!.off('data', onData)
      resolve()
    }
    child.stdout!.on('data', onData)
    exited.then(({ code, signal }) => reject(new Error(`meridian dev exited (${code ?? signal}) before it was ready:\n${out}`)))
  })
  return {
    child,
    ...parseDevOutput(out),
    output: () => out,
    exited,
    stop: (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
