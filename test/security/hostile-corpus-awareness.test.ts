/**
 * Hostile corpus, part 3: awareness spoofing and abuse. The honest client
 * `a` holds presence on the shared document; no case may change it.
 */
import { hostileSuite } from './support/hostile-suite.js'
import { AWARENESS_LIMITS, awarenessCases, publishAliceState } from './corpus/awareness.js'

hostileSuite('hostile corpus: awareness', {
  relay: { ...AWARENESS_LIMITS },
  setup: publishAliceState,
  cases: awarenessCases,
})
