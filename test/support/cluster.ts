/**
 * In-process clusters of relays for mesh tests: every relay peers with every
 * other through a LinkProxy (so links can be cut, healed and delayed), and
 * waits are driven by the relays' own events.
 */
import { Relay, LinkProxy, type RelayOptionsInput, type RelayDependencies } from '@meridian/server'
import * as Y from 'yjs'

export interface ClusterNode {
  region: string
  relay: Relay
  /** Proxies carrying this relay's outbound links, by target region. */
  outbound: Map<string, LinkProxy>
}

export interface Cluster {
  nodes: Map<string, ClusterNode>
  node(region: string): ClusterNode
  /** Cuts (or heals) both directions between two regions. */
  cut(a: string, b: string): void
  heal(a: string, b: string): void
  /** Resolves once every relay has both links to every peer up. */
  connected(): Promise<void>
  close(): Promise<void>
}

export const startCluster = async (
  regions: string[],
  optionsFor: (region: string) => Partial<RelayOptionsInput> = () => ({}),
  depsFor: (region: string) => RelayDependencies = () => ({}),
): Promise<Cluster> => {
  const nodes = new Map<string, ClusterNode>()
  for (const region of regions) {
    const relay = await new Relay({ region, logLevel: 'silent', ...optionsFor(region) }, depsFor(region)).start()
    nodes.set(region, { region, relay, outbound: new Map() })
  }
  for (const from of nodes.values()) {
    for (const to of nodes.values()) {
      if (from === to) continue
      const proxy = new LinkProxy({ targetPort: to.relay.port })
      await proxy.start()
      from.outbound.set(to.region, proxy)
      from.relay.addPeer({ region: to.region, url: `ws://127.0.0.1:${proxy.port}` })
    }
  }
  const node = (region: string): ClusterNode => {
    const n = nodes.get(region)
    if (!n) throw new Error(`no region ${region}`)
    return n
  }
  return {
    nodes,
    node,
    cut: (a, b) => {
      node(a).outbound.get(b)!.cutLink()
      node(b).outbound.get(a)!.cutLink()
    },
    heal: (a, b) => {
      node(a).outbound.get(b)!.heal()
      node(b).outbound.get(a)!.heal()
    },
    connected: () => allConnected([...nodes.values()].map((n) => n.relay)),
    close: async () => {
      for (const n of nodes.values()) await n.relay.close()
      for (const n of nodes.values()) for (const p of n.outbound.values()) await p.close()
    },
  }
}

/** Resolves when every relay's mesh has all links up. */
export const allConnected = (relays: Relay[]): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (relays.every((r) => r.mesh!.fullyConnected())) {
        for (const r of relays) r.mesh!.off('session-open', check)
        resolve()
      }
    }
    for (const r of relays) r.mesh!.on('session-open', check)
    check()
  })

/**
 * Resolves when `predicate` holds, re-checking after any document change in
 * any of the relays (effective updates are the event that matters here).
 */
export const waitUntil = (relays: Relay[], predicate: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    const offs: (() => void)[] = []
    const check = (): void => {
      if (!predicate()) return
      for (const off of offs) off()
      resolve()
    }
    // Updates apply synchronously but persist and fan out a turn later;
    // re-check on the next turn as well.
    for (const r of relays) offs.push(r.docs.onEffectiveUpdate(() => setImmediate(check)))
    check()
  })

/**
 * Content of a document as a relay holds it (root types t: text, m: map,
 * a: array — a relay's own Y.Doc does not know the root types' kinds), or
 * null when the document is not loaded there.
 */
export const docJson = (relay: Relay, doc: string): { t: string; m: Record<string, unknown>; a: unknown[] } | null => {
  const live = relay.docs.peek(doc)
  if (!live) return null
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(live.doc))
  const content = { t: copy.getText('t').toString(), m: copy.getMap('m').toJSON(), a: copy.getArray('a').toJSON() }
  copy.destroy()
  return content
}

export const stateVectorOf = (relay: Relay, doc: string): string | null => {
  const live = relay.docs.peek(doc)
  return live ? Buffer.from(Y.encodeStateVector(live.doc)).toString('hex') : null
}
