/**
 * Random multi-client Yjs editing histories for property tests (merge
 * determinism here, the cluster fuzzer later).
 *
 * The arbitrary generates a plain script (edits and sync points) and replays
 * it on real Y.Docs, so fast-check shrinks the script and a counterexample
 * prints as readable steps rather than update bytes. Positions and targets
 * are raw naturals reduced modulo the live document at replay time, which
 * keeps every shrunk script valid.
 */
import fc from 'fast-check'
import * as Y from 'yjs'

export type Primitive = number | string | boolean | null | Uint8Array | { k: number }
/** A value to insert: a primitive, or a nested Y.Map / Y.Array built from its description. */
export type Value = Primitive | { nested: 'map'; entries: [string, Value][] } | { nested: 'array'; items: Value[] }
export type Attrs = Record<string, string | boolean | null>

export type Op =
  | { op: 'text.insert'; pos: number; text: string; attrs?: Attrs }
  | { op: 'text.delete'; pos: number; len: number }
  | { op: 'text.format'; pos: number; len: number; attrs: Attrs }
  | { op: 'text.embed'; pos: number; embed: Record<string, string>; attrs?: Attrs }
  | { op: 'array.insert'; target: number; pos: number; items: Value[] }
  | { op: 'array.push'; target: number; items: Value[] }
  | { op: 'array.delete'; target: number; pos: number; len: number }
  | { op: 'map.set'; target: number; key: string; value: Value }
  | { op: 'map.delete'; target: number; key: string }

export type Step =
  /** One transaction on one client. */
  | { step: 'edit'; client: number; ops: Op[] }
  /** `from` sends what `to` lacks; with `both`, the reverse too. */
  | { step: 'sync'; from: number; to: number; both: boolean }

export interface History {
  /** Every update any client emitted, in global emission order (a causal order). */
  updates: Uint8Array[]
  /** The same updates split by emitting client, each in its emission order. */
  perClient: Uint8Array[][]
  /** `clientIds[i]` is the Y.Doc clientID of client i. */
  clientIds: number[]
  /** The script that produced the updates, for counterexample reports. */
  steps: Step[]
}

export interface HistoryOptions {
  minClients?: number
  maxClients?: number
  /** Upper bound on edit and sync steps. */
  maxSteps?: number
  /** Upper bound on operations inside one transaction. */
  maxOpsPerEdit?: number
}

/** Root types every history uses; `docFingerprint` reads exactly these. */
export const ROOT_TEXT = 'text'
export const ROOT_ARRAY = 'array'
export const ROOT_MAP = 'map'

const SYNC_ORIGIN = Symbol('history-sync')

/**
 * A fresh doc. The fixed guid matters for speed only: a generated one costs
 * a crypto UUID, which dominated the run time of these properties.
 */
export const newDoc = (): Y.Doc => new Y.Doc({ guid: 'history' })

const primitiveArb: fc.Arbitrary<Primitive> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 3 }),
  // Yjs dispatches on the constructor, so a null-prototype object would be refused.
  fc.integer({ min: 0, max: 9 }).map((k) => ({ k })),
)

const keyArb = fc.constantFrom('a', 'b', 'c', 'd')

const valueArb = (depth: number): fc.Arbitrary<Value> => {
  if (depth === 0) return primitiveArb
  const inner = valueArb(depth - 1)
  return fc.oneof(
    { weight: 3, arbitrary: primitiveArb },
    { weight: 1, arbitrary: fc.record({ nested: fc.constant('map' as const), entries: fc.array(fc.tuple(keyArb, inner), { maxLength: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ nested: fc.constant('array' as const), items: fc.array(inner, { maxLength: 2 }) }) },
  )
}

const itemsArb = fc.array(valueArb(2), { minLength: 1, maxLength: 3 })
// Multi-unit characters exercise UTF-16 positions in Y.Text.
const textArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'é', '文'), minLength: 1, maxLength: 5 })
// Fresh objects per value: Y.Text's insert adds the current formatting's keys
// (as null) to the attributes object it is given, so a shared constant would
// carry one run's formatting into the next and make runs depend on each other.
const attrsArb: fc.Arbitrary<Attrs> = fc
  .constantFrom<Attrs>({ bold: true }, { bold: null }, { italic: true }, { color: 'red' }, { color: 'blue', bold: true }, { italic: null, color: null })
  .map((attrs) => ({ ...attrs }))
const embedArb = fc.constantFrom<Record<string, string>>({ image: 'a.png' }, { formula: 'x^2' }).map((embed) => ({ ...embed }))
const posArb = fc.nat({ max: 40 })
const lenArb = fc.integer({ min: 1, max: 6 })
const targetArb = fc.nat({ max: 7 })

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('text.insert' as const), pos: posArb, text: textArb, attrs: attrsArb }, { requiredKeys: ['op', 'pos', 'text'] }),
  fc.record({ op: fc.constant('text.delete' as const), pos: posArb, len: lenArb }),
  fc.record({ op: fc.constant('text.format' as const), pos: posArb, len: lenArb, attrs: attrsArb }),
  fc.record({ op: fc.constant('text.embed' as const), pos: posArb, embed: embedArb, attrs: attrsArb }, { requiredKeys: ['op', 'pos', 'embed'] }),
  fc.record({ op: fc.constant('array.insert' as const), target: targetArb, pos: posArb, items: itemsArb }),
  fc.record({ op: fc.constant('array.push' as const), target: targetArb, items: itemsArb }),
  fc.record({ op: fc.constant('array.delete' as const), target: targetArb, pos: posArb, len: lenArb }),
  fc.record({ op: fc.constant('map.set' as const), target: targetArb, key: keyArb, value: valueArb(2) }),
  fc.record({ op: fc.constant('map.delete' as const), target: targetArb, key: keyArb }),
)

const stepArb = (maxOpsPerEdit: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ step: fc.constant('edit' as const), client: fc.nat({ max: 3 }), ops: fc.array(opArb, { minLength: 1, maxLength: maxOpsPerEdit }) }) },
    { weight: 1, arbitrary: fc.record({ step: fc.constant('sync' as const), from: fc.nat({ max: 3 }), to: fc.nat({ max: 3 }), both: fc.boolean() }) },
  )

/** Builds the Yjs value a description stands for (nested types as preliminary content). */
const materialize = (value: Value): unknown => {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || !('nested' in value)) return value
  if (value.nested === 'map') {
    const map = new Y.Map<unknown>()
    for (const [key, v] of value.entries) map.set(key, materialize(v))
    return map
  }
  const array = new Y.Array<unknown>()
  array.push(value.items.map(materialize))
  return array
}

/** Live shared containers of a doc in a deterministic order, so `target` picks reproducibly. */
const containers = (doc: Y.Doc): { arrays: Y.Array<unknown>[]; maps: Y.Map<unknown>[] } => {
  const arrays: Y.Array<unknown>[] = []
  const maps: Y.Map<unknown>[] = []
  const visit = (value: unknown): void => {
    if (value instanceof Y.Array) {
      arrays.push(value)
      value.forEach(visit)
    } else if (value instanceof Y.Map) {
      maps.push(value)
      for (const key of [...value.keys()].sort()) visit(value.get(key))
    }
  }
  visit(doc.getArray(ROOT_ARRAY))
  visit(doc.getMap(ROOT_MAP))
  return { arrays, maps }
}

const clampRange = (pos: number, len: number, length: number): [number, number] => {
  const start = pos % (length + 1)
  return [start, Math.min(len, length - start)]
}

const applyOp = (doc: Y.Doc, op: Op): void => {
  const text = doc.getText(ROOT_TEXT)
  switch (op.op) {
    case 'text.insert':
      return text.insert(op.pos % (text.length + 1), op.text, op.attrs)
    case 'text.embed':
      return text.insertEmbed(op.pos % (text.length + 1), op.embed, op.attrs)
    case 'text.delete': {
      const [start, len] = clampRange(op.pos, op.len, text.length)
      return len > 0 ? text.delete(start, len) : undefined
    }
    case 'text.format': {
      const [start, len] = clampRange(op.pos, op.len, text.length)
      return len > 0 ? text.format(start, len, op.attrs) : undefined
    }
  }
  const { arrays, maps } = containers(doc)
  switch (op.op) {
    case 'array.insert': {
      const array = arrays[op.target % arrays.length] as Y.Array<unknown>
      return array.insert(op.pos % (array.length + 1), op.items.map(materialize))
    }
    case 'array.push':
      return (arrays[op.target % arrays.length] as Y.Array<unknown>).push(op.items.map(materialize))
    case 'array.delete': {
      const array = arrays[op.target % arrays.length] as Y.Array<unknown>
      const [start, len] = clampRange(op.pos, op.len, array.length)
      return len > 0 ? array.delete(start, len) : undefined
    }
    case 'map.set':
      return void (maps[op.target % maps.length] as Y.Map<unknown>).set(op.key, materialize(op.value))
    case 'map.delete':
      return (maps[op.target % maps.length] as Y.Map<unknown>).delete(op.key)
  }
}

const syncInto = (from: Y.Doc, to: Y.Doc): void => {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), SYNC_ORIGIN)
}

/** Replays a script on fresh docs and records the updates each client emits. */
export const runHistory = (clientIds: readonly number[], steps: readonly Step[]): History => {
  const n = clientIds.length
  const updates: Uint8Array[] = []
  const perClient: Uint8Array[][] = clientIds.map(() => [])
  const docs = clientIds.map((id, i) => {
    const doc = newDoc()
    doc.clientID = id
    // Updates that arrive by sync are not this client's; but follow-up
    // transactions Yjs runs itself (Y.Text formatting cleanup) are, so only
    // the sync transaction is skipped.
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === SYNC_ORIGIN) return
      updates.push(update)
      perClient[i]?.push(update)
    })
    return doc
  })
  for (const s of steps) {
    if (s.step === 'edit') {
      const doc = docs[s.client % n] as Y.Doc
      doc.transact(() => s.ops.forEach((op) => applyOp(doc, op)))
    } else {
      const from = s.from % n
      const to = from === s.to % n ? (from + 1) % n : s.to % n
      syncInto(docs[from] as Y.Doc, docs[to] as Y.Doc)
      if (s.both) syncInto(docs[to] as Y.Doc, docs[from] as Y.Doc)
    }
  }
  return { updates, perClient, clientIds: [...clientIds], steps: [...steps] }
}

/**
 * Random histories of 2–4 clients (fixed clientIDs 1..n) editing text,
 * array and map roots with random sync points in between.
 */
export const historyArb = (options: HistoryOptions = {}): fc.Arbitrary<History> => {
  const { minClients = 2, maxClients = 4, maxSteps = 20, maxOpsPerEdit = 3 } = options
  return fc
    .record({
      clients: fc.integer({ min: minClients, max: maxClients }),
      steps: fc.array(stepArb(maxOpsPerEdit), { minLength: 1, maxLength: maxSteps, size: 'max' }),
    })
    .map(({ clients, steps }) => {
      const history = runHistory(Array.from({ length: clients }, (_, i) => i + 1), steps)
      // Counterexamples print the script, not kilobytes of update bytes.
      return Object.assign(history, {
        [fc.toStringMethod]: () => `History(${clients} clients, ${history.updates.length} updates) ${fc.stringify(steps)}`,
      })
    })
}

/** A fresh doc with `updates` applied in the given order. */
export const applyAll = (updates: Iterable<Uint8Array>, doc: Y.Doc = newDoc()): Y.Doc => {
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc
}

export interface Fingerprint {
  json: { text: unknown; array: unknown; map: unknown }
  sv: Uint8Array
}

/** Content of every root a history touches (text as a delta, so formatting counts) and the state vector. */
export const docFingerprint = (doc: Y.Doc): Fingerprint => ({
  json: {
    text: doc.getText(ROOT_TEXT).toDelta(),
    array: doc.getArray(ROOT_ARRAY).toJSON(),
    map: doc.getMap(ROOT_MAP).toJSON(),
  },
  sv: Y.encodeStateVector(doc),
})
