/**
 * Runs `meridian relay` as a child process through the built CLI, the way an
 * operator does, and resolves once it printed its `listening` line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'

export const CLI_PATH = fileURLToPath(new URL('../../packages/server/dist/cli/main.js', import.meta.url))

export interface RelayProcess {
  child: ChildProcess
  port: number
  url: string
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export const runCli = (args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess =>
  spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })

/** Runs the CLI to completion and returns its exit code and output. */
export const runCliToExit = async (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  const child = runCli(args)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

export const startRelayProcess = async (args: string[]): Promise<RelayProcess> => {
  const child = runCli(['relay', '--log-level', 'warn', ...args])
  let out = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out)
      if (m) {
        child.stdout!.off('data', onData)
        child.stdout!.on('data', (more: Buffer) => (out += more.toString()))
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    exited.then(({ code }) => reject(new Error(`relay exited (${code}) before listening:\n${out}`)))
  })
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}`,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
