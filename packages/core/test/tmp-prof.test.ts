import { it } from 'vitest'
import fc from 'fast-check'
import { historyArb, runHistory } from './support/histories.js'
it('prof', () => {
  let t = performance.now()
  const s = fc.sample(historyArb(), { numRuns: 1000, seed: 1 })
  console.log('sample ms', performance.now() - t)
  t = performance.now()
  for (const h of s) runHistory(h.clientIds, h.steps)
  console.log('run ms', performance.now() - t)
})
