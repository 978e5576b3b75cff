/**
 * Hostile corpus, part 2: Yjs decoder bombs and malformed updates, against
 * a relay with the default limits (4 MiB messages). One relay, cases in
 * sequence.
 */
import { hostileSuite } from './support/hostile-suite.js'
import { countBombCases, malformedStructCases, wholeUpdateCases } from './corpus/updates.js'

hostileSuite('hostile corpus: Yjs updates', {
  cases: [...countBombCases, ...malformedStructCases, ...wholeUpdateCases],
})
