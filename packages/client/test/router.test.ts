import { describe, expect, it } from 'vitest'
import { RegionRouter } from '../src/router.js'
import { documentUrl } from '../src/url.js'
import { healthUrlOf } from '../src/rtt.js'

const endpoints = [
  { region: 'eu', url: 'wss://eu.example' },
  { region: 'us', url: 'wss://us.example' },
  { region: 'ap', url: 'wss://ap.example/sync/' },
]
const names = (r: RegionRouter): string[] => r.ranking().map((e) => e.region)
const policy = { healthyChecks: 3, minDwellMs: 1_000 }

describe('RegionRouter', () => {
  it('ranks by measured round trip, unmeasured last, list order breaking ties', () => {
    const r = new RegionRouter(endpoints, null)
    expect(names(r)).toEqual(['eu', 'us', 'ap'])
    r.setRtt('ap', 20)
    r.setRtt('us', 80)
    expect(names(r)).toEqual(['ap', 'us', 'eu'])
    r.setRtt('us', 10) // keeps the best sample
    r.setRtt('us', 90)
    expect(names(r)).toEqual(['us', 'ap', 'eu'])
  })

  it('puts a pinned region first whatever its round trip', () => {
    const r = new RegionRouter(endpoints, 'ap')
    r.setRtt('ap', 300)
    r.setRtt('eu', 5)
    expect(names(r)).toEqual(['ap', 'eu', 'us'])
  })

  it('fails over in rank order, wrapping, preferring regions that are not down', () => {
    const r = new RegionRouter(endpoints, null)
    expect(r.after('eu')?.region).toBe('us')
    expect(r.after('ap')?.region).toBe('eu')
    r.markDown('us')
    expect(r.after('eu')?.region).toBe('ap')
    expect(r.best()?.region).toBe('eu')
    r.markDown('eu')
    expect(r.best()?.region).toBe('ap')
    expect(new RegionRouter([endpoints[0]!], null).after('eu')).toBeNull()
  })

  it('restricts to the regions a refusal names, and excludes a region when none are named', () => {
    const r = new RegionRouter(endpoints, 'us')
    expect(r.restrict(['eu', 'zz'])).toBe(true)
    expect(names(r)).toEqual(['eu'])
    expect(r.restrict(['*'])).toBe(true)
    expect(names(r)).toEqual(['us', 'eu', 'ap'])
    expect(r.exclude('us')).toBe(true)
    expect(names(r)).toEqual(['eu', 'ap'])
    expect(r.restrict(['zz'])).toBe(false)
  })

  it('returns to a better region only after enough healthy checks in a row and the dwell time', () => {
    const r = new RegionRouter(endpoints, 'eu')
    const since = 0
    expect(r.healthTargets('us').map((e) => e.region)).toEqual(['eu', 'ap'])
    r.recordHealth('eu', true, policy)
    r.recordHealth('eu', true, policy)
    r.recordHealth('eu', false, policy) // a flap resets the streak
    r.recordHealth('eu', true, policy)
    r.recordHealth('eu', true, policy)
    expect(r.returnCandidate('us', 5_000, since, policy)).toBeNull()
    r.recordHealth('eu', true, policy)
    expect(r.returnCandidate('us', 500, since, policy)).toBeNull() // too soon
    expect(r.returnCandidate('us', 1_000, since, policy)?.region).toBe('eu')
    expect(r.returnCandidate('eu', 1_000, since, policy)).toBeNull()
  })

  it('clears a down mark once the region is healthy again', () => {
    const r = new RegionRouter(endpoints, null)
    r.markDown('eu')
    for (let i = 0; i < 3; i++) r.recordHealth('eu', true, policy)
    expect(r.isDown('eu')).toBe(false)
  })

  // What the connection manager tells the router over two failover cycles.
  const earnReturn = (r: RegionRouter, since: number): void => {
    for (let i = 0; i < policy.healthyChecks - 1; i++) {
      r.recordHealth('eu', true, policy)
      expect(r.returnCandidate('us', since + 10_000, since, policy)).toBeNull()
    }
    r.recordHealth('eu', true, policy)
    expect(r.returnCandidate('us', since + 10_000, since, policy)?.region).toBe('eu')
  }

  it('needs fresh healthy checks in every failover cycle, after a plain connection failure', () => {
    const r = new RegionRouter(endpoints, 'eu')
    r.noteSynced('eu')
    r.noteFailure('eu')
    r.noteFailure('eu')
    r.noteSynced('us')
    earnReturn(r, 0)
    // The move back fails: eu refuses the connection twice and we are in us again.
    r.noteFailure('eu')
    r.noteFailure('eu')
    r.noteSynced('us')
    earnReturn(r, 40_000)
  })

  it('starts the streak over when a region becomes the current one', () => {
    const r = new RegionRouter(endpoints, 'eu')
    earnReturn(r, 0)
    r.noteSynced('eu')
    // Left again without a failure of eu's own (a disconnect, the browser going offline, 4007).
    r.noteSynced('us')
    earnReturn(r, 40_000)
  })

  it('checks only better regions when not ranking by round trip', () => {
    const r = new RegionRouter(endpoints, null)
    expect(r.healthTargets('us', false).map((e) => e.region)).toEqual(['eu'])
    expect(r.healthTargets('us').map((e) => e.region)).toEqual(['eu', 'ap'])
  })
})

describe('URLs', () => {
  it('appends the encoded document name and token to the region URL', () => {
    expect(documentUrl(endpoints[0]!, 'notes/42', null, {})).toBe('wss://eu.example/notes%2F42')
    expect(documentUrl(endpoints[2]!, 'a b', 't.k', { v: '1' })).toBe('wss://ap.example/sync/a%20b?v=1&token=t.k')
  })
  it('measures health on /healthz of the same host over http(s)', () => {
    expect(healthUrlOf(endpoints[2]!)).toBe('https://ap.example/healthz')
    expect(healthUrlOf({ region: 'x', url: 'ws://127.0.0.1:7001' })).toBe('http://127.0.0.1:7001/healthz')
    expect(healthUrlOf({ region: 'x', url: 'ws://h', healthUrl: 'http://h/up' })).toBe('http://h/up')
  })
})
