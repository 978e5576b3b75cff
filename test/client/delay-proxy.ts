/**
 * A TCP proxy that delays every chunk by a fixed time in each direction,
 * like a long link. Unlike a cut-able LinkProxy it forwards a half-close only
 * after the chunks before it, so a response followed by `Connection: close`
 * arrives whole.
 */
import net from 'node:net'

export class DelayProxy {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()

  constructor(
    private readonly targetPort: number,
    private readonly delayMs: number,
  ) {
    this.server = net.createServer((client) => this.handle(client))
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return this.port
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  private later(fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, this.delayMs)
    this.timers.add(timer)
  }

  private handle(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1')
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from)
      from.on('data', (chunk) => this.later(() => !to.destroyed && to.write(chunk)))
      from.on('end', () => this.later(() => to.end()))
      from.on('error', () => to.destroy())
      from.on('close', () => this.sockets.delete(from))
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
