import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MeridianError } from '../src/errors.js'
import { PolicyError, ReplicationPolicy, policyConfigSchema, type PolicyConfig, type PolicyRule } from '../src/policy/policy.js'

const example: PolicyConfig = {
  policies: [
    { match: 'eu-only/**', regions: ['eu'] },
    { match: 'slow/**', regions: ['eu', 'us-east'], cadenceMs: 5000 },
    { match: '**', regions: '*', cadenceMs: 0 },
  ],
}

describe('placement', () => {
  const policy = ReplicationPolicy.parse(example)

  it('first matching rule wins', () => {
    expect(policy.placement('eu-only/contract')).toEqual({ regions: ['eu'], cadenceMs: 0, ruleIndex: 0, match: 'eu-only/**' })
    expect(policy.placement('slow/feed')).toEqual({ regions: ['eu', 'us-east'], cadenceMs: 5000, ruleIndex: 1, match: 'slow/**' })
    expect(policy.placement('anything/else')).toMatchObject({ regions: '*', ruleIndex: 2 })
  })

  it('an earlier broad rule shadows a later narrow one', () => {
    const shadowed = ReplicationPolicy.parse({
      policies: [
        { match: '**', regions: ['us'] },
        { match: 'eu-only/**', regions: ['eu'] },
      ],
    })
    expect(shadowed.placement('eu-only/x')).toMatchObject({ regions: ['us'], ruleIndex: 0 })
  })

  it('falls back to the implicit allow-all rule when nothing matches', () => {
    const narrow = ReplicationPolicy.parse({ policies: [{ match: 'eu-only/**', regions: ['eu'] }] })
    expect(narrow.placement('public/x')).toEqual({ regions: '*', cadenceMs: 0, ruleIndex: 1, match: '**' })
    expect(narrow.allows('public/x', 'ap')).toBe(true)
    expect(ReplicationPolicy.allowAll().placement('x')).toEqual({ regions: '*', cadenceMs: 0, ruleIndex: 0, match: '**' })
    expect(ReplicationPolicy.parse({ policies: [] }).hash).toBe(ReplicationPolicy.allowAll().hash)
  })

  it('allows only the placement regions', () => {
    expect(policy.allows('eu-only/a', 'eu')).toBe(true)
    expect(policy.allows('eu-only/a', 'us-east')).toBe(false)
    expect(policy.allows('eu-only', 'us-east')).toBe(true)
    expect(policy.allows('other', 'anywhere')).toBe(true)
  })

  it('expands "*" against known regions and returns explicit lists as written', () => {
    expect(policy.regionsFor('other', ['eu', 'us-east', 'ap', 'eu'])).toEqual(['eu', 'us-east', 'ap'])
    expect(policy.regionsFor('slow/x', ['ap'])).toEqual(['eu', 'us-east'])
    const regions = policy.regionsFor('slow/x', [])
    regions.push('mutated')
    expect(policy.regionsFor('slow/x', [])).toEqual(['eu', 'us-east'])
  })

  it('fills in the cadence default and round-trips through toConfig', () => {
    expect(policy.rules[0]).toEqual({ match: 'eu-only/**', regions: ['eu'], cadenceMs: 0 })
    expect(ReplicationPolicy.parse(policy.toConfig()).hash).toBe(policy.hash)
    expect(policyConfigSchema.parse(example).policies[0]?.cadenceMs).toBe(0)
  })
})

const parseError = (input: unknown): PolicyError => {
  try {
    ReplicationPolicy.parse(input)
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError)
    expect(err).toBeInstanceOf(MeridianError)
    expect((err as PolicyError).code).toBe('invalid-policy')
    return err as PolicyError
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`)
}

describe('validation errors name the rule and the field', () => {
  const rule = (overrides: Record<string, unknown>, omit?: string): Record<string, unknown> => {
    const base: Record<string, unknown> = { match: 'docs/**', regions: ['eu'], ...overrides }
    if (omit) delete base[omit]
    return base
  }
  // The bad rule sits at index 1 so the message must point past a good one.
  const withBadRule = (bad: unknown): unknown => ({ policies: [rule({}), bad] })

  const cases: [what: string, input: unknown, expected: RegExp][] = [
    ['config not an object', 42, /^\(policy config\): expected an object/],
    ['config null', null, /^\(policy config\): expected an object/],
    ['policies missing', {}, /^policies: required/],
    ['policies not a list', { policies: { match: '**' } }, /^policies: expected a list/],
    ['unknown top-level key', { policies: [], policy: [] }, /^\(policy config\): unknown key "policy"/],
    ['rule not an object', withBadRule('docs/**'), /^policies\[1\]: expected a rule object/],
    ['rule is null', withBadRule(null), /^policies\[1\]: expected a rule object/],
    ['missing match', withBadRule(rule({}, 'match')), /^policies\[1\]\.match: required/],
    ['match not a string', withBadRule(rule({ match: 7 })), /^policies\[1\]\.match: expected a document-name glob/],
    ['empty match', withBadRule(rule({ match: '' })), /^policies\[1\]\.match: invalid glob "": empty pattern/],
    ['triple star', withBadRule(rule({ match: 'a/***' })), /^policies\[1\]\.match: invalid glob "a\/\*\*\*"/],
    ['missing regions', withBadRule(rule({}, 'regions')), /^policies\[1\]\.regions: expected "\*" or a non-empty list of region names$/],
    ['empty regions', withBadRule(rule({ regions: [] })), /^policies\[1\]\.regions: expected "\*" or a non-empty list of region names$/],
    ['regions a bare name', withBadRule(rule({ regions: 'eu' })), /^policies\[1\]\.regions: expected "\*"/],
    ['region not a string', withBadRule(rule({ regions: ['eu', 3] })), /^policies\[1\]\.regions: expected "\*"/],
    ['uppercase region', withBadRule(rule({ regions: ['eu', 'US'] })), /^policies\[1\]\.regions\[1\]: "US" is not a region name/],
    ['region leading dash', withBadRule(rule({ regions: ['-eu'] })), /^policies\[1\]\.regions\[0\]: "-eu" is not a region name/],
    ['region too long', withBadRule(rule({ regions: ['a'.repeat(33)] })), /^policies\[1\]\.regions\[0\]: "a{33}" is not a region name/],
    ['duplicate region', withBadRule(rule({ regions: ['eu', 'us', 'eu'] })), /^policies\[1\]\.regions\[2\]: "eu" is listed twice/],
    ['negative cadence', withBadRule(rule({ cadenceMs: -1 })), /^policies\[1\]\.cadenceMs: expected an integer number of milliseconds from 0 to 600000$/],
    ['fractional cadence', withBadRule(rule({ cadenceMs: 1.5 })), /^policies\[1\]\.cadenceMs: expected an integer/],
    ['cadence too large', withBadRule(rule({ cadenceMs: 600_001 })), /^policies\[1\]\.cadenceMs: expected an integer/],
    ['cadence as string', withBadRule(rule({ cadenceMs: '100' })), /^policies\[1\]\.cadenceMs: expected an integer/],
    ['unknown key', withBadRule(rule({ region: 'eu' })), /^policies\[1\]: unknown key "region" \(allowed: match, regions, cadenceMs\)$/],
  ]

  it.each(cases)('%s', (_what, input, expected) => {
    expect(parseError(input).message).toMatch(expected)
  })

  it('reports every problem at once', () => {
    const err = parseError({ policies: [rule({ regions: [] }), rule({ cadenceMs: -5 }), 'x'] })
    expect(err.message).toContain('policies[0].regions:')
    expect(err.message).toContain('policies[1].cadenceMs:')
    expect(err.message).toContain('policies[2]:')
  })

  it('accepts the boundaries', () => {
    const p = ReplicationPolicy.parse({
      policies: [
        { match: 'a', regions: ['a'.repeat(32), '0', 'x-1'], cadenceMs: 600_000 },
        { match: 'b', regions: '*', cadenceMs: 0 },
      ],
    })
    expect(p.rules).toHaveLength(2)
  })
})

const regionArb = fc.constantFrom('eu', 'us-east', 'us-west', 'ap', 'sa')
const ruleArb: fc.Arbitrary<Required<PolicyRule>> = fc.record({
  match: fc.constantFrom('**', 'eu-only/**', 'a/*', 'docs/**/draft', '?x', 'exact'),
  regions: fc.oneof(fc.constant('*' as const), fc.uniqueArray(regionArb, { minLength: 1, maxLength: 3 })),
  cadenceMs: fc.integer({ min: 0, max: 600_000 }),
})
const rulesArb = fc.array(ruleArb, { minLength: 1, maxLength: 5 })

/** Rebuilds each rule with its keys in `keyOrder` and its regions permuted. */
const rewrite = (rules: Required<PolicyRule>[], keyOrder: (keyof PolicyRule)[], rotate: number): unknown =>
  rules.map((r) =>
    Object.fromEntries(
      keyOrder.map((k) => {
        const regions = r.regions
        if (k !== 'regions' || regions === '*') return [k, r[k]]
        const shift = rotate % regions.length
        return [k, [...regions.slice(shift), ...regions.slice(0, shift)]]
      }),
    ),
  )

describe('policy hash', () => {
  it('is hex sha-256 and fixed for a given policy', () => {
    const { hash } = ReplicationPolicy.parse(example)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(ReplicationPolicy.parse(example).hash).toBe(hash)
  })

  it('ignores key order, whitespace, region order and omitted defaults', () => {
    fc.assert(
      fc.property(
        rulesArb,
        fc.shuffledSubarray(['match', 'regions', 'cadenceMs'] as (keyof PolicyRule)[], { minLength: 3 }),
        fc.nat(),
        fc.nat({ max: 8 }),
        (rules, keyOrder, rotate, indent) => {
          const reference = ReplicationPolicy.parse({ policies: rules }).hash
          const source = JSON.stringify({ policies: rewrite(rules, keyOrder, rotate) }, null, indent)
          expect(ReplicationPolicy.parse(JSON.parse(source)).hash).toBe(reference)
          const withoutDefaults = rules.map(({ cadenceMs, ...rest }) => (cadenceMs === 0 ? rest : { ...rest, cadenceMs }))
          expect(ReplicationPolicy.parse({ policies: withoutDefaults }).hash).toBe(reference)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('changes when rule order changes', () => {
    fc.assert(
      fc.property(rulesArb, fc.nat(), fc.nat(), (rules, a, b) => {
        const i = a % rules.length
        const j = b % rules.length
        fc.pre(JSON.stringify(ReplicationPolicy.parse({ policies: [rules[i]] }).rules) !== JSON.stringify(ReplicationPolicy.parse({ policies: [rules[j]] }).rules))
        const swapped = [...rules]
        ;[swapped[i], swapped[j]] = [rules[j]!, rules[i]!]
        expect(ReplicationPolicy.parse({ policies: swapped }).hash).not.toBe(ReplicationPolicy.parse({ policies: rules }).hash)
      }),
      { numRuns: 200 },
    )
  })

  it('changes when any rule content changes', () => {
    const base = ReplicationPolicy.parse(example).hash
    const variants: PolicyConfig[] = [
      { policies: [{ ...example.policies[0]!, match: 'eu-only/*' }, ...example.policies.slice(1)] },
      { policies: [{ ...example.policies[0]!, regions: ['eu', 'us-east'] }, ...example.policies.slice(1)] },
      { policies: [{ ...example.policies[0]!, regions: '*' }, ...example.policies.slice(1)] },
      { policies: [{ ...example.policies[0]!, cadenceMs: 1 }, ...example.policies.slice(1)] },
      { policies: example.policies.slice(0, 2) },
      { policies: [...example.policies, { match: 'x', regions: '*' }] },
    ]
    const hashes = variants.map((v) => ReplicationPolicy.parse(v).hash)
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1)
  })
})
