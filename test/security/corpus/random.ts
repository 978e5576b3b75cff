/**
 * Seeded random garbage. Each case draws bytes until the core codec (the
 * relay's own edge decoder) rejects them, so the expected close code is
 * known in advance; the seed is printed by rngFromEnv.
 */
import * as Y from 'yjs'
import { CloseCode as C, decodeAwarenessUpdate, decodeClientMessage, decodeStateVectorSafe, validateUpdate } from '@meridian/core'
import type { Rng } from '../support/seed.js'
import { awarenessOf, syncStep1Of, syncUpdateOf } from '../support/bytes.js'
import { sampleUpdate, type HostileCase } from '../support/hostile-suite.js'

const rejects = (f: () => unknown): boolean => {
  try {
    f()
    return false
  } catch {
    return true
  }
}

const draw = (what: string, rng: Rng, make: () => Uint8Array, rejected: (b: Uint8Array) => boolean): Uint8Array => {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const candidate = make()
    if (rejected(candidate)) return candidate
  }
  throw new Error(`${what}: 1000 draws all decoded (seed ${rng.seed})`)
}

/** Byte flips, truncations, insertions and deletions of a real update. */
const mutate = (rng: Rng, source: Uint8Array): Uint8Array => {
  let b = Array.from(source)
  const edits = 1 + rng.int(4)
  for (let i = 0; i < edits; i++) {
    const at = rng.int(b.length)
    switch (rng.int(4)) {
      case 0:
        b[at] = b[at]! ^ (1 << rng.int(8))
        break
      case 1:
        b = b.slice(0, Math.max(1, at))
        break
      case 2:
        b.splice(at, 0, rng.int(256))
        break
      default:
        b.splice(at, 1)
    }
  }
  return Uint8Array.from(b)
}

const realUpdate = sampleUpdate((doc) => {
  doc.getText('t').insert(0, 'hostile input must not hurt')
  doc.getText('t').format(0, 7, { bold: true })
  doc.getMap('m').set('n', 42)
  doc.getMap('m').set('o', { deep: [1, 'two', null, { x: 3 }] })
  doc.getArray('a').push([new Uint8Array([1, 2, 3]), 'x', 7.5])
  doc.getMap('m').set('y', new Y.Text('nested'))
  doc.getText('t').delete(3, 4)
})

export const randomCases = (rng: Rng, awarenessLimits: { maxEntries: number; maxStateBytes: number }, count = 4): HostileCase[] => {
  const cases: HostileCase[] = []
  for (let i = 1; i <= count; i++) {
    const frame = draw('random frame', rng, () => rng.bytes(1 + rng.int(64)), (b) => rejects(() => decodeClientMessage(b)))
    cases.push({ name: `random frame #${i} (seed ${rng.seed})`, expect: C.MalformedMessage, frames: () => [frame] })

    const update = draw('random update', rng, () => rng.bytes(1 + rng.int(96)), (b) => rejects(() => validateUpdate(b)))
    cases.push({ name: `random update payload #${i} (seed ${rng.seed})`, expect: C.InvalidUpdate, frames: () => [syncUpdateOf(update)] })

    const mutated = draw('mutated update', rng, () => mutate(rng, realUpdate), (b) => rejects(() => validateUpdate(b)))
    cases.push({ name: `mutated real update #${i} (seed ${rng.seed})`, expect: C.InvalidUpdate, frames: () => [syncUpdateOf(mutated)] })

    const awareness = draw('random awareness', rng, () => rng.bytes(1 + rng.int(48)), (b) => rejects(() => decodeAwarenessUpdate(b, awarenessLimits)))
    cases.push({ name: `random awareness payload #${i} (seed ${rng.seed})`, expect: C.MalformedMessage, frames: () => [awarenessOf(awareness)] })

    const stateVector = draw('random state vector', rng, () => rng.bytes(1 + rng.int(24)), (b) => rejects(() => decodeClientMessage(syncStep1Of(b))) || rejects(() => decodeStateVectorSafe(b)))
    cases.push({ name: `random state vector #${i} (seed ${rng.seed})`, expect: C.MalformedMessage, frames: () => [syncStep1Of(stateVector)] })
  }
  return cases
}
