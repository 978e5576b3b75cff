/**
 * A cluster of real relays (in-process, in-memory stores that survive a
 * crash like a disk does) and clients, wired through a SimNetwork.
 */
import { Relay, MemoryDocStore, MemoryVolume, type MessageSocket } from '@meridian/server'
import { SimNetwork } from './sim-network.js'
import { SimClient } from './sim-client.js'

export const SIM_POLICIES = [
  { match: 'pinned/**', regions: ['r0'] },
  { match: 'pair/**', regions: ['r0', 'r1'] },
  { match: '**', regions: '*' },
]

export interface SimOptions {
  regions: number
  clientsPerDoc: number
  docs: string[]
  seed: number
  /** Peer frames in the link stream (the relay default) or standalone. */
  linkStream?: boolean
  /** A deliberately broken relay: acknowledges every tenth peer delta (the first, the eleventh, …) without applying it. */
  broken?: boolean
}

interface RelaySlot {
  region: string
  volume: MemoryVolume
  relay: Relay | null
  crashes: number
}

/** Deterministic PRNG (mulberry32) for the relays' backoff jitter. */
const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class SimCluster {
  readonly network: SimNetwork
  readonly slots: RelaySlot[]
  readonly clients: SimClient[] = []
  private deltaCount = 0

  constructor(readonly options: SimOptions) {
    this.network = new SimNetwork((to, socket, path) => this.accept(to, socket, path))
    this.slots = Array.from({ length: options.regions }, (_, i) => ({ region: `r${i}`, volume: new MemoryVolume(), relay: null, crashes: 0 }))
    let id = 1
    for (const doc of options.docs) {
      for (let c = 0; c < options.clientsPerDoc; c++) this.clients.push(new SimClient(`c${id}`, 1000 + id++, doc))
    }
  }

  get regions(): string[] {
    return this.slots.map((s) => s.region)
  }

  slot(region: string): RelaySlot {
    return this.slots.find((s) => s.region === region)!
  }

  private accept(to: string, socket: MessageSocket, path: string): boolean {
    const relay = this.slots.find((s) => s.region === to)?.relay
    if (!relay) return false
    if (path.startsWith('/_meridian/peer')) relay.connectPeer(socket)
    else relay.connectClient(socket, path)
    return true
  }

  async startRelay(region: string): Promise<void> {
    const slot = this.slot(region)
    if (slot.relay) return
    const random = prng(this.options.seed + slot.crashes * 7919 + region.charCodeAt(1))
    const relay = new Relay(
      {
        region,
        relayId: `${region}-relay`,
        logLevel: process.env.SIM_LOG ?? 'silent',
        policies: SIM_POLICIES,
        idleEvictMs: 60_000,
        digestIntervalMs: 0,
        peerAckTimeoutMs: 200,
        peerHelloTimeoutMs: 200,
        peerBackoffBaseMs: 1,
        peerBackoffMaxMs: 20,
        peerCursorFollowMs: 2,
        peerLinkStream: this.options.linkStream ?? true,
      },
      {
        store: new MemoryDocStore({ volume: slot.volume }),
        listen: false,
        connector: this.network.connectorFor(region),
        random,
        ...(this.options.broken ? { peerDeltaFilter: () => this.deltaCount++ % 10 !== 0 } : {}),
      },
    )
    slot.relay = relay
    await relay.start()
    for (const peer of this.regions) if (peer !== region) relay.addPeer({ region: peer, url: `sim://${peer}` })
  }

  async crashRelay(region: string): Promise<void> {
    const slot = this.slot(region)
    const relay = slot.relay
    if (!relay) return
    slot.relay = null
    slot.crashes++
    await relay.crash()
  }

  /** Connects a client to the first region (from `preferred`) that the policy allows and that is up. */
  connectClient(client: SimClient, preferred: number): void {
    if (client.socket) return
    const order = this.regions.map((_, i) => this.regions[(preferred + i) % this.regions.length]!)
    for (const region of order) {
      const relay = this.slot(region).relay
      if (!relay || !relay.options.policy.allows(client.docName, region)) continue
      client.attach(this.network.connect(client.name, region, `/${encodeURIComponent(client.docName)}`), region)
      return
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.detach()
    for (const s of this.slots) {
      const r = s.relay
      s.relay = null
      await r?.close()
    }
    this.network.drainInOrder()
  }
}
