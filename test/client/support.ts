/**
 * Helpers for the client integration tests: providers wired to `ws` (Node 20
 * has no global WebSocket) and tracked for cleanup, client-facing LinkProxies
 * to make a region unreachable without stopping its relay, and event waits
 * with deadlines.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { LinkProxy } from '@meridian/server'
import { MeridianProvider, type MeridianProviderOptions, type MeridianProviderEvents, type WebSocketConstructor } from '@meridian/client'

/** `ws` with every instance recorded, so a test can prove all of them closed. */
export const trackedWebSocket = (): { Impl: WebSocketConstructor; sockets: Set<WebSocket> } => {
  const sockets = new Set<WebSocket>()
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url)
      sockets.add(this)
    }
  }
  return { Impl: Tracked, sockets }
}

/** Fast timings for tests; each test overrides what it is about. */
export const FAST: Partial<MeridianProviderOptions> = {
  persistence: false,
  measureRtt: false,
  backoff: { initialMs: 40, maxMs: 400 },
  failoverAfterAttempts: 2,
  connectTimeoutMs: 2_000,
  probeTimeoutMs: 1_000,
}

export class Providers {
  private readonly all: MeridianProvider[] = []
  /** Errors reported by providers whose test did not pass its own onError. */
  private errors: string[] = []

  create(doc: Y.Doc, name: string, options: MeridianProviderOptions): MeridianProvider {
    const provider = new MeridianProvider(doc, name, {
      WebSocketPolyfill: WebSocket,
      ...FAST,
      onError: (err) => this.errors.push(`${name}: ${(err as { code?: string }).code ?? ''} ${err.message}`),
      ...options,
    })
    this.all.push(provider)
    return provider
  }

  /** Destroys every provider and its document; returns the errors nobody expected. */
  destroyAll(): string[] {
    for (const p of this.all.splice(0)) {
      p.destroy()
      p.doc.destroy()
    }
    const errors = this.errors
    this.errors = []
    return errors
  }
}

/** Resolves on the first `event` whose arguments pass `test`; rejects after `ms`. */
export const nextEvent = <N extends keyof MeridianProviderEvents & string>(
  provider: MeridianProvider,
  event: N,
  test: (...args: Parameters<MeridianProviderEvents[N]>) => boolean = () => true,
  ms = 15_000,
): Promise<Parameters<MeridianProviderEvents[N]>> =>
  new Promise((resolve, reject) => {
    const handler = ((...args: Parameters<MeridianProviderEvents[N]>) => {
      if (!test(...args)) return
      clearTimeout(timer)
      provider.off(event, handler)
      resolve(args)
    }) as MeridianProviderEvents[N]
    const timer = setTimeout(() => {
      provider.off(event, handler)
      reject(new Error(`no '${event}' event within ${ms} ms`))
    }, ms)
    provider.on(event, handler)
  })

/** Resolves when `predicate` holds, re-checking after each transaction on `doc`; rejects after `ms`. */
export const docUntil = (doc: Y.Doc, predicate: () => boolean, what: string, ms = 15_000): Promise<void> =>
  new Promise((resolve, reject) => {
    if (predicate()) return resolve()
    const check = (): void => {
      if (!predicate()) return
      clearTimeout(timer)
      doc.off('afterTransaction', check)
      resolve()
    }
    const timer = setTimeout(() => {
      doc.off('afterTransaction', check)
      reject(new Error(`timed out waiting for ${what}`))
    }, ms)
    doc.on('afterTransaction', check)
  })

/** Races a promise against a deadline. */
export const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** A TCP proxy in front of a relay's client port, to cut a region off from clients. */
export const frontProxy = async (targetPort: number, delayMs = 0): Promise<LinkProxy> => {
  const proxy = new LinkProxy({ targetPort, delayMs })
  await proxy.start()
  return proxy
}
