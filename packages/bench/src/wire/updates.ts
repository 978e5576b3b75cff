/**
 * Update generation and delivery counting. Every generated update is one
 * character appended to the writer's own Y.Text, so it advances the writer's
 * clock by exactly one: "how many of A's updates has B seen" is then B's
 * high-water clock for A, however the server merged or split the messages.
 */
import * as Y from 'yjs'

export class Writer {
  readonly doc = new Y.Doc()
  private readonly text = this.doc.getText('t')
  private last: Uint8Array | null = null
  private count = 0

  constructor() {
    this.doc.on('update', (update: Uint8Array) => {
      this.last = update
    })
  }

  get clientID(): number {
    return this.doc.clientID
  }

  /** Updates produced so far (= this writer's clock). */
  get clock(): number {
    return this.count
  }

  next(): Uint8Array {
    this.text.insert(this.text.length, String.fromCharCode(97 + (this.count % 26)))
    this.count++
    const update = this.last
    if (!update) throw new Error('Yjs produced no update')
    this.last = null
    return update
  }
}

/** High-water clocks of every writer as seen by one receiver. */
export class SeenClocks {
  private readonly high = new Map<number, number>()

  /** Calls `onNew(client, from, to)` for each writer whose clock advanced (clocks from..to-1 are new). */
  ingest(update: Uint8Array, onNew: (client: number, from: number, to: number) => void): void {
    const meta = Y.parseUpdateMeta(update)
    for (const [client, to] of meta.to) {
      const prev = this.high.get(client) ?? 0
      if (to <= prev) continue
      this.high.set(client, to)
      onNew(client, Math.max(prev, meta.from.get(client) ?? 0), to)
    }
  }

  clockOf(client: number): number {
    return this.high.get(client) ?? 0
  }
}

/** Clock of `client` in an encoded state vector (0 when absent). */
export const clockIn = (stateVector: Uint8Array, client: number): number => Y.decodeStateVector(stateVector).get(client) ?? 0

/** Sum of all clocks of a state vector: updates stored, given one clock tick per update. */
export const totalClock = (stateVector: Uint8Array): number => {
  let sum = 0
  for (const clock of Y.decodeStateVector(stateVector).values()) sum += clock
  return sum
}
