/**
 * Replication policy: ordered rules on document-name globs deciding which
 * regions may hold a document and how often it is shipped between them.
 * The format, the implicit default rule and the hash are documented in
 * docs/policy.md; relays compare `hash` on peer hello.
 */
import { z } from 'zod'
import { digest } from 'lib0/hash/sha256'
import { compileGlob, PolicyError } from './glob.js'

export { PolicyError } from './glob.js'

export interface PolicyRule {
  match: string
  regions: string[] | '*'
  cadenceMs?: number
}

export interface PolicyConfig {
  policies: PolicyRule[]
}

export interface Placement {
  regions: readonly string[] | '*'
  cadenceMs: number
  /** Index of the deciding rule; `rules.length` for the implicit default. */
  ruleIndex: number
  match: string
}

export const REGION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/
export const MAX_CADENCE_MS = 600_000

const RULE_KEYS = ['match', 'regions', 'cadenceMs'] as const
const REGIONS_EXPECTED = 'expected "*" or a non-empty list of region names'
const CADENCE_EXPECTED = `expected an integer number of milliseconds from 0 to ${MAX_CADENCE_MS}`

const regionsSchema = z
  .union([z.literal('*'), z.array(z.string()).min(1, { error: REGIONS_EXPECTED })], { error: REGIONS_EXPECTED })
  .superRefine((regions, ctx) => {
    if (regions === '*') return
    const seen = new Set<string>()
    regions.forEach((region, i) => {
      if (!REGION_NAME_PATTERN.test(region)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `${JSON.stringify(region)} is not a region name (1 to 32 of a-z, 0-9 and "-", not starting with "-")`,
        })
      } else if (seen.has(region)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(region)} is listed twice` })
      }
      seen.add(region)
    })
  })

const ruleSchema = z.strictObject(
  {
    match: z
      .string({
        error: (iss) =>
          iss.input === undefined ? 'required: a document-name glob such as "docs/**"' : 'expected a document-name glob (a string)',
      })
      .superRefine((pattern, ctx) => {
        try {
          compileGlob(pattern)
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) })
        }
      }),
    regions: regionsSchema,
    cadenceMs: z
      .number({ error: CADENCE_EXPECTED })
      .int({ error: CADENCE_EXPECTED })
      .min(0, { error: CADENCE_EXPECTED })
      .max(MAX_CADENCE_MS, { error: CADENCE_EXPECTED })
      .default(0),
  },
  { error: (iss) => (iss.code === 'invalid_type' ? 'expected a rule object { "match", "regions", "cadenceMs"? }' : undefined) },
)

export const policyConfigSchema = z.strictObject(
  {
    policies: z.array(ruleSchema, {
      error: (iss) => (iss.input === undefined ? 'required: a list of rules' : 'expected a list of rules'),
    }),
  },
  { error: (iss) => (iss.code === 'invalid_type' ? 'expected an object { "policies": [...] }' : undefined) },
)

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '')

/** One readable line per zod issue, each led by the path it concerns. */
const describeIssues = (issues: readonly z.core.$ZodIssue[]): string =>
  issues
    .map((issue) => {
      const where = formatPath(issue.path) || '(policy config)'
      if (issue.code === 'unrecognized_keys') {
        const allowed = issue.path.length === 0 ? ['policies'] : RULE_KEYS
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ')
        return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${allowed.join(', ')})`
      }
      return `${where}: ${issue.message}`
    })
    .join('; ')

const DEFAULT_PLACEMENT_MATCH = '**'

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * Region order inside a rule carries no meaning, so it is sorted here; rule
 * order does, so it is kept. The version tag lets the encoding change later
 * without old and new relays mistaking each other's hashes for equal.
 */
const canonicalEncoding = (rules: readonly Required<PolicyRule>[]): Uint8Array =>
  new TextEncoder().encode(
    JSON.stringify([
      'meridian-policy/1',
      rules.map((r) => [r.match, r.regions === '*' ? '*' : [...r.regions].sort(), r.cadenceMs]),
    ]),
  )

export class ReplicationPolicy {
  readonly rules: readonly Readonly<Required<PolicyRule>>[]
  readonly hash: string
  private readonly matchers: readonly ((name: string) => boolean)[]
  private readonly placements: readonly Placement[]
  private readonly fallback: Placement

  private constructor(rules: readonly Required<PolicyRule>[]) {
    this.rules = Object.freeze(
      rules.map((r) => Object.freeze({ match: r.match, regions: r.regions === '*' ? '*' : [...r.regions], cadenceMs: r.cadenceMs })),
    )
    this.matchers = rules.map((r) => compileGlob(r.match))
    // Placements are shared frozen objects: placement() runs per message.
    this.placements = rules.map((r, ruleIndex) =>
      Object.freeze({
        regions: r.regions === '*' ? '*' : Object.freeze([...r.regions]),
        cadenceMs: r.cadenceMs,
        ruleIndex,
        match: r.match,
      }),
    )
    this.fallback = Object.freeze({ regions: '*', cadenceMs: 0, ruleIndex: rules.length, match: DEFAULT_PLACEMENT_MATCH })
    this.hash = toHex(digest(canonicalEncoding(rules)))
  }

  /** Validates `input` against `policyConfigSchema`; throws `PolicyError` ('invalid-policy') naming every bad field. */
  static parse(input: unknown): ReplicationPolicy {
    const parsed = policyConfigSchema.safeParse(input)
    if (!parsed.success) throw new PolicyError('invalid-policy', describeIssues(parsed.error.issues))
    return new ReplicationPolicy(parsed.data.policies)
  }

  /** No rules: every document falls to the implicit default (all regions, immediate). */
  static allowAll(): ReplicationPolicy {
    return new ReplicationPolicy([])
  }

  /** First matching rule wins; otherwise the implicit `{ match: '**', regions: '*', cadenceMs: 0 }`. */
  placement(docName: string): Placement {
    const index = this.matchers.findIndex((matches) => matches(docName))
    return index === -1 ? this.fallback : (this.placements[index] as Placement)
  }

  allows(docName: string, region: string): boolean {
    const { regions } = this.placement(docName)
    return regions === '*' || regions.includes(region)
  }

  /**
   * Regions that may hold `docName`. `'*'` expands to `knownRegions`; an
   * explicit list is returned as written, including regions this relay does
   * not know, because refusals must name every region that may serve it.
   */
  regionsFor(docName: string, knownRegions: readonly string[]): string[] {
    const { regions } = this.placement(docName)
    return regions === '*' ? [...new Set(knownRegions)] : [...regions]
  }

  /** The rules with defaults filled in, in the input format of `parse`. */
  toConfig(): PolicyConfig {
    return { policies: this.rules.map((r) => ({ match: r.match, regions: r.regions === '*' ? '*' : [...r.regions], cadenceMs: r.cadenceMs })) }
  }
}
