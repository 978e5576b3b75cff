/**
 * Hosts the simulated inter-region links (Meridian's LinkProxy: a TCP proxy
 * with a one-way delay, cut and heal) in a process of their own, so that
 * the delay timers never share an event loop with a relay or a client.
 */
import { LinkProxy } from '@meridian/server'
import { serve } from '../proc/child-side.js'

const links = new Map<string, LinkProxy>()

const named = (names: string[]): LinkProxy[] =>
  names.map((n) => {
    const link = links.get(n)
    if (!link) throw new Error(`no link ${n}`)
    return link
  })

serve({
  create: async (args: { name: string; targetPort: number; delayMs: number }) => {
    const link = new LinkProxy({ targetPort: args.targetPort, delayMs: args.delayMs })
    links.set(args.name, link)
    return link.start()
  },
  cut: (names: string[]) => named(names).forEach((l) => l.cutLink()),
  heal: (names: string[]) => named(names).forEach((l) => l.heal()),
  shutdown: async () => {
    await Promise.all([...links.values()].map((l) => l.close()))
    setTimeout(() => process.exit(0), 10)
  },
})
