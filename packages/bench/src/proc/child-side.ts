/**
 * Child side of the IPC channel: request handlers, events, and the rule
 * that a child never outlives the benchmark (it exits when the channel
 * closes, so a crashed parent leaves nothing running).
 */
import type { ChildToParent, ParentToChild } from './ipc-types.js'

export type Handler = (args: never) => unknown

const send = (msg: ChildToParent): void => {
  process.send?.(msg)
}

export function emitEvent(event: string, data: unknown = null): void {
  send({ event, data })
}

/** The job description the parent passed as argv[2]. */
export function jobParams<T>(): T {
  const raw = process.argv[2]
  if (!raw) throw new Error('missing job parameters')
  return JSON.parse(raw) as T
}

export function serve(handlers: Record<string, Handler>): void {
  process.on('disconnect', () => process.exit(0))
  process.on('message', (raw) => {
    const msg = raw as ParentToChild
    const handler = handlers[msg.cmd]
    if (!handler) {
      send({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` })
      return
    }
    Promise.resolve()
      .then(() => (handler as (args: unknown) => unknown)(msg.args))
      .then(
        (result) => send({ id: msg.id, ok: true, result: result ?? null }),
        (err: unknown) => send({ id: msg.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
      )
  })
}

export interface HeapReport {
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  rss: number
}

/** Heap after full collections; --expose-gc is required (the parent passes it). */
export async function heapAfterGc(): Promise<HeapReport> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('start this process with --expose-gc')
  // Several passes with turns in between: weak references and finalizers
  // (ws, Yjs observers) release memory only across turns.
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss }
}

/** Commands every server script answers the same way. */
export function serverHandlers(shutdown: () => Promise<void>): Record<string, Handler> {
  return {
    heap: () => heapAfterGc(),
    shutdown: async () => {
      await shutdown()
      // Answer first, then exit on a later turn so the answer is delivered.
      setTimeout(() => process.exit(0), 10)
    },
  }
}

export function announceListening(port: number, extra: Record<string, unknown> = {}): void {
  emitEvent('ready', { port, url: `ws://127.0.0.1:${port}`, ...extra })
}
