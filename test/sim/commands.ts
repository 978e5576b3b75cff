/**
 * The fault schedule as fast-check commands, so a failing schedule shrinks
 * to a minimal one. Every random choice (which client edits what, which
 * pending message is delivered next, drop/duplicate rolls) lives in a
 * command's arguments.
 */
import fc from 'fast-check'
import type { SimCluster } from './sim-cluster.js'

export interface SimModel {
  down: Set<string>
  offline: Set<string>
}

type Cmd = fc.AsyncCommand<SimModel, SimCluster>

/** Lets the relays' own event-loop work (turn batching, flushes) happen. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

class Edit implements Cmd {
  constructor(readonly client: number, readonly kind: number, readonly a: number, readonly b: number) {}
  check = () => true
  async run(_m: SimModel, c: SimCluster) {
    c.clients[this.client % c.clients.length]!.edit(this.kind, this.a, this.b)
    await turn()
  }
  toString = () => `edit(c${this.client}, ${this.kind}, ${this.a}, ${this.b})`
}

class Deliver implements Cmd {
  constructor(readonly picks: [number, number][]) {}
  check = () => true
  async run(_m: SimModel, c: SimCluster) {
    for (const [pick, roll] of this.picks) {
      c.network.step(pick, roll)
      await turn()
    }
  }
  toString = () => `deliver(${this.picks.length})`
}

class Faults implements Cmd {
  constructor(readonly from: number, readonly to: number, readonly cut: boolean, readonly drop: number, readonly duplicate: number) {}
  check = () => true
  async run(_m: SimModel, c: SimCluster) {
    const regions = c.regions
    const from = regions[this.from % regions.length]!
    const to = regions[this.to % regions.length]!
    if (from === to) return
    Object.assign(c.network.faultsOf(from, to), { cut: this.cut, drop: this.drop, duplicate: this.duplicate })
  }
  toString = () => `faults(r${this.from}->r${this.to}, cut=${this.cut}, drop=${this.drop}, dup=${this.duplicate})`
}

class Crash implements Cmd {
  constructor(readonly region: number) {}
  check = (m: Readonly<SimModel>) => m.down.size < 2
  async run(m: SimModel, c: SimCluster) {
    const region = c.regions[this.region % c.regions.length]!
    m.down.add(region)
    await c.crashRelay(region)
  }
  toString = () => `crash(r${this.region})`
}

class Restart implements Cmd {
  constructor(readonly region: number) {}
  check = (m: Readonly<SimModel>) => m.down.size > 0
  async run(m: SimModel, c: SimCluster) {
    const region = c.regions[this.region % c.regions.length]!
    m.down.delete(region)
    await c.startRelay(region)
  }
  toString = () => `restart(r${this.region})`
}

class Offline implements Cmd {
  constructor(readonly client: number) {}
  check = () => true
  async run(m: SimModel, c: SimCluster) {
    const client = c.clients[this.client % c.clients.length]!
    m.offline.add(client.name)
    client.detach()
  }
  toString = () => `offline(c${this.client})`
}

class Online implements Cmd {
  constructor(readonly client: number, readonly preferred: number) {}
  check = () => true
  async run(m: SimModel, c: SimCluster) {
    const client = c.clients[this.client % c.clients.length]!
    m.offline.delete(client.name)
    c.connectClient(client, this.preferred)
  }
  toString = () => `online(c${this.client}, r${this.preferred})`
}

const small = fc.nat({ max: 1000 })
const prob = fc.constantFrom(0, 0, 0.1, 0.3)

export const simCommands = fc.commands(
  [
    fc.tuple(fc.nat(15), fc.nat(4), small, small).map(([c, k, a, b]) => new Edit(c, k, a, b)),
    fc.tuple(fc.nat(15), fc.nat(4), small, small).map(([c, k, a, b]) => new Edit(c, k, a, b)),
    fc.array(fc.tuple(fc.nat(50), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 12 }).map((p) => new Deliver(p)),
    fc.array(fc.tuple(fc.nat(50), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 12 }).map((p) => new Deliver(p)),
    fc.tuple(fc.nat(4), fc.nat(4), fc.boolean(), prob, prob).map(([f, t, cut, d, dup]) => new Faults(f, t, cut, d, dup)),
    fc.nat(4).map((r) => new Crash(r)),
    fc.nat(4).map((r) => new Restart(r)),
    fc.nat(15).map((c) => new Offline(c)),
    fc.tuple(fc.nat(15), fc.nat(4)).map(([c, r]) => new Online(c, r)),
  ],
  { maxCommands: 80, size: 'large' },
)
