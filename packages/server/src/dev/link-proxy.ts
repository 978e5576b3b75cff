/**
 * A TCP proxy that stands in for an inter-region link on one machine: it
 * adds a fixed one-way delay in each direction and can be cut and healed.
 * The demo cluster and the partition tests put one in front of each peer.
 */
import net from 'node:net'

export interface LinkProxyOptions {
  /** Port of the relay behind the proxy. */
  targetPort: number
  targetHost?: string
  /** One-way delay added to every chunk, each direction. */
  delayMs?: number
  host?: string
}

export class LinkProxy {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private isCut = false
  delayMs: number

  constructor(private readonly options: LinkProxyOptions) {
    this.delayMs = options.delayMs ?? 0
    this.server = net.createServer((client) => this.handle(client))
  }

  async start(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, this.options.host ?? '127.0.0.1', () => resolve())
    })
    return this.port
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  get cut(): boolean {
    return this.isCut
  }

  /** Drops every connection through the link and refuses new ones until healed. */
  cutLink(): void {
    this.isCut = true
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }

  heal(): void {
    this.isCut = false
  }

  private handle(client: net.Socket): void {
    if (this.isCut) {
      client.destroy()
      return
    }
    const upstream = net.connect(this.options.targetPort, this.options.targetHost ?? '127.0.0.1')
    this.sockets.add(client)
    this.sockets.add(upstream)
    const pipe = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk) => {
        if (this.delayMs <= 0) {
          to.write(chunk)
          return
        }
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          if (!to.destroyed) to.write(chunk)
        }, this.delayMs)
        this.timers.add(timer)
      })
    }
    pipe(client, upstream)
    pipe(upstream, client)
    const teardown = (): void => {
      client.destroy()
      upstream.destroy()
      this.sockets.delete(client)
      this.sockets.delete(upstream)
    }
    // A side that closes still has data travelling through the delay: end
    // the other side only after that data has arrived.
    const closeLater = (): void => {
      if (this.delayMs <= 0 || this.isCut) return teardown()
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        teardown()
      }, this.delayMs)
      this.timers.add(timer)
    }
    client.on('close', closeLater)
    upstream.on('close', closeLater)
    client.on('error', teardown)
    upstream.on('error', teardown)
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
