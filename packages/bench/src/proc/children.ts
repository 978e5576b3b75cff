/**
 * Parent side of every child process the benchmark starts (servers, load
 * generators, helpers). Each child is forked with an IPC channel; requests
 * carry an id so answers can be matched. Every child is registered so that
 * an exit, an error or Ctrl-C never leaves one behind.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildToParent, ParentToChild } from './ipc-types.js'

const DIST_ROOT = fileURLToPath(new URL('..', import.meta.url))
const live = new Set<Child>()

export interface ChildOptions {
  /** Script path relative to the package's dist root, e.g. `servers/meridian.js`. */
  script: string
  name: string
  /** JSON-serialisable job description, passed as argv[2]. */
  params?: unknown
  env?: Record<string, string>
  /** Node flags; servers get --expose-gc so heap figures are taken after a full GC. */
  execArgv?: string[]
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class Child {
  readonly proc: ChildProcess
  readonly name: string
  readonly exited: Promise<number | null>
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<string, ((data: unknown) => void)[]>()
  private readonly events: { event: string; data: unknown }[] = []
  private tail = ''
  private exitCode: number | null | undefined

  constructor(options: ChildOptions) {
    this.name = options.name
    const args = options.params === undefined ? [] : [JSON.stringify(options.params)]
    this.proc = fork(DIST_ROOT + options.script, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...options.env },
      serialization: 'advanced',
    })
    live.add(this)
    // Output is kept (last 8 KB) only to explain a failure.
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-8192)
    }
    this.proc.stdout?.on('data', keep)
    this.proc.stderr?.on('data', keep)
    this.proc.on('message', (raw) => this.onMessage(raw as ChildToParent))
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        live.delete(this)
        this.exitCode = code ?? (signal ? -1 : null)
        const err = new Error(`${this.name} exited (code ${code}, signal ${signal})${this.tail ? `: ${this.tail.trim().slice(-1500)}` : ''}`)
        for (const p of this.pending.values()) {
          clearTimeout(p.timer)
          p.reject(err)
        }
        this.pending.clear()
        for (const fns of this.listeners.values()) for (const fn of fns) fn({ exited: true, error: err.message })
        resolve(code)
      })
    })
  }

  get output(): string {
    return this.tail
  }

  get running(): boolean {
    return this.exitCode === undefined
  }

  private onMessage(msg: ChildToParent): void {
    if ('event' in msg) {
      this.events.push({ event: msg.event, data: msg.data })
      for (const fn of this.listeners.get(msg.event) ?? []) fn(msg.data)
      return
    }
    const p = this.pending.get(msg.id)
    if (!p) return
    this.pending.delete(msg.id)
    clearTimeout(p.timer)
    if (msg.ok) p.resolve(msg.result)
    else p.reject(new Error(`${this.name}: ${msg.error}`))
  }

  /** Resolves with the data of the first `event` (already received or future). */
  waitEvent<T>(event: string, timeoutMs: number): Promise<T> {
    const seen = this.events.find((e) => e.event === event)
    if (seen) return Promise.resolve(seen.data as T)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms; output: ${this.tail.slice(-1500)}`)), timeoutMs)
      const fns = this.listeners.get(event) ?? []
      fns.push((data) => {
        clearTimeout(timer)
        const exited = data as { exited?: boolean; error?: string } | undefined
        if (exited && typeof exited === 'object' && exited.exited === true) reject(new Error(exited.error))
        else resolve(data as T)
      })
      this.listeners.set(event, fns)
    })
  }

  request<T>(cmd: string, args: unknown = null, timeoutMs = 60_000): Promise<T> {
    if (!this.running) return Promise.reject(new Error(`${this.name} is not running: ${this.tail.slice(-1500)}`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: "${cmd}" timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      const msg: ParentToChild = { id, cmd, args }
      this.proc.send(msg)
    })
  }

  /** SIGKILL: what a crash looks like; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL')
    await this.exited
  }

  /** Asks the child to shut down cleanly (flushing storage); kills it if that takes too long. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (!this.running) return
    const graceful = this.request('shutdown', null, timeoutMs).catch(() => undefined)
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs)
    await graceful
    await this.exited
    clearTimeout(timer)
  }
}

export const startChild = (options: ChildOptions): Child => new Child(options)

/** Synchronous last resort, safe inside an 'exit' handler. */
export function killAllChildren(): void {
  for (const c of live) {
    try {
      c.proc.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
}

export const liveChildren = (): number => live.size
