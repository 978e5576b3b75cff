/**
 * The simulated network between relays and clients: every message on every
 * link is an event in one queue, and the simulator decides which pending
 * event happens next (so links reorder), and whether it is dropped or
 * duplicated, from choices that fast-check generates and can shrink.
 * Partitions may be one-way. Relays talk through it with the same
 * MessageSocket interface the WebSocket transport implements.
 */
import { createMemoryLink, type Deliver, type MessageSocket, type SocketConnector } from '@meridian/server'

export interface LinkFaults {
  /** No message from `from` reaches `to` (and new connections fail). */
  cut: boolean
  /** Probability in [0, 1] that a message is lost. */
  drop: number
  /** Probability in [0, 1] that a message arrives twice. */
  duplicate: number
}

interface PendingEvent {
  id: number
  from: string
  to: string
  kind: 'open' | 'message' | 'close'
  run: () => void
}

const healthy = (): LinkFaults => ({ cut: false, drop: 0, duplicate: 0 })

export class SimNetwork {
  private readonly pending: PendingEvent[] = []
  private readonly faults = new Map<string, LinkFaults>()
  private nextId = 1
  /** Counters for the report. */
  readonly stats = { delivered: 0, dropped: 0, duplicated: 0 }

  constructor(private readonly accept: (to: string, socket: MessageSocket, path: string) => boolean) {}

  private key(from: string, to: string): string {
    return `${from}->${to}`
  }

  faultsOf(from: string, to: string): LinkFaults {
    let f = this.faults.get(this.key(from, to))
    if (!f) {
      f = healthy()
      this.faults.set(this.key(from, to), f)
    }
    return f
  }

  healAll(): void {
    this.faults.clear()
  }

  get pendingCount(): number {
    return this.pending.length
  }

  /** A link between two endpoints (relay regions or client ids); returns the dialing end. */
  connect(from: string, to: string, path: string): MessageSocket {
    const deliverFor = (src: string, dst: string): Deliver => (kind, run) => {
      this.pending.push({ id: this.nextId++, from: src, to: dst, kind, run })
    }
    const { client, server } = createMemoryLink(deliverFor(from, to), deliverFor(to, from))
    if (this.faultsOf(from, to).cut || this.faultsOf(to, from).cut || !this.accept(to, server, path)) {
      server.terminate()
    }
    return client
  }

  connectorFor(region: string): SocketConnector {
    return {
      connect: (url) => {
        const m = /^sim:\/\/([^/]+)(\/.*)$/.exec(url)
        if (!m) throw new Error(`not a sim url: ${url}`)
        return this.connect(region, m[1]!, m[2]!)
      },
    }
  }

  /**
   * Runs the pending event at `pick` (modulo the queue), applying the link's
   * faults: a message may be dropped or run twice. Opens and closes are never
   * dropped (a lost close is modelled by the watchdogs and reconnects).
   */
  step(pick: number, roll: number): boolean {
    if (this.pending.length === 0) return false
    const [event] = this.pending.splice(pick % this.pending.length, 1)
    const f = this.faultsOf(event!.from, event!.to)
    if (event!.kind === 'message') {
      if (f.cut || roll < f.drop) {
        this.stats.dropped++
        event!.run = () => {}
        return true
      }
      if (roll > 1 - f.duplicate) {
        this.stats.duplicated++
        event!.run()
      }
    }
    this.stats.delivered++
    event!.run()
    return true
  }

  /** Delivers everything in order of arrival (used when settling). */
  drainInOrder(): number {
    let n = 0
    while (this.pending.length > 0) {
      this.step(0, 0.5)
      n++
    }
    return n
  }
}
