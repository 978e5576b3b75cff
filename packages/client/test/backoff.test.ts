import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../src/backoff.js'
import { classifyClose, parseRegionsFromReason } from '../src/close-policy.js'

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 1_000, multiplier: 2 }
  it('grows exponentially up to the cap, with half of each delay jittered', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 0))).toEqual([50, 100, 200, 400, 500, 500])
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000])
  })
  it('never returns zero or more than the cap, whatever the randomness', () => {
    const seed = Date.now() % 100_000
    let x = seed
    const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647)
    console.log(`backoff jitter seed ${seed}`)
    for (let attempt = 0; attempt < 200; attempt++) {
      const d = backoffDelay(attempt, options, random)
      expect(d).toBeGreaterThan(0)
      expect(d).toBeLessThanOrEqual(options.maxMs)
    }
  })
})

describe('close policy', () => {
  it('maps relay close codes to what the client does', () => {
    expect(classifyClose(1001, 'relay shutting down', null)).toEqual({ kind: 'retry' })
    expect(classifyClose(1006, '', null)).toEqual({ kind: 'retry' })
    expect(classifyClose(4011, 'storage unavailable', null)).toEqual({ kind: 'failover' })
    expect(classifyClose(4005, 'token-expired', null)).toEqual({ kind: 'reauthenticate' })
    expect(classifyClose(4006, '', null)).toEqual({ kind: 'fatal', code: 'forbidden' })
    expect(classifyClose(4003, '', null)).toEqual({ kind: 'fatal', code: 'invalid-doc-name' })
    expect(classifyClose(4002, '', null)).toEqual({ kind: 'fatal', code: 'protocol-rejected' })
    expect(classifyClose(4007, '', null)).toEqual({ kind: 'rate-limited' })
  })
  it('takes the regions of a wrong-region refusal from the refusal message, else from the reason', () => {
    expect(classifyClose(4004, 'wrong region; regions=eu,us', null)).toEqual({ kind: 'wrong-region', regions: ['eu', 'us'] })
    expect(classifyClose(4004, 'wrong region; regions=eu', ['ap', 'eu'])).toEqual({ kind: 'wrong-region', regions: ['ap', 'eu'] })
    expect(classifyClose(4004, 'wrong region', null)).toEqual({ kind: 'wrong-region', regions: null })
  })
  it('parses only a trailing regions= list', () => {
    expect(parseRegionsFromReason('wrong region; regions=eu')).toEqual(['eu'])
    expect(parseRegionsFromReason('regions=eu,us')).toEqual(['eu', 'us'])
    expect(parseRegionsFromReason('wrong region; regions=')).toBeNull()
    expect(parseRegionsFromReason('myregions=eu')).toBeNull()
    expect(parseRegionsFromReason('regions=eu; more')).toBeNull()
  })
})
