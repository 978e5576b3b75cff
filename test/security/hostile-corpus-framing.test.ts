/**
 * Hostile corpus, part 1: malformed client messages (varints, lengths,
 * types, state vectors), text and oversized frames, invalid WebSocket
 * frames, and seeded random garbage. One relay, cases in sequence.
 */
import { hostileSuite } from './support/hostile-suite.js'
import { rngFromEnv } from './support/seed.js'
import { FRAMING_MAX_MESSAGE_BYTES, stateVectorCases, typeCases, varintAndLengthCases } from './corpus/framing.js'
import { wsFrameCases } from './corpus/ws-frames.js'
import { randomCases } from './corpus/random.js'

const rng = rngFromEnv('hostile-corpus-framing')

hostileSuite('hostile corpus: framing', {
  relay: { maxMessageBytes: FRAMING_MAX_MESSAGE_BYTES },
  cases: [
    ...varintAndLengthCases,
    ...typeCases,
    ...stateVectorCases,
    ...wsFrameCases,
    // The relay's defaults: 16 ids per connection × 4 entries, 64 KiB states.
    ...randomCases(rng, { maxEntries: 64, maxStateBytes: 64 * 1024 }),
  ],
})
