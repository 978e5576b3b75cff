/**
 * Globs over document names, shared by replication policies and token
 * document scopes. Semantics are documented in docs/policy.md.
 *
 * Matching runs a small NFA over code points instead of a RegExp: patterns
 * may come from signed tokens and configs, and a backtracking engine turns
 * patterns such as `*a*a*a*a*b` into exponential work on long names. Here the
 * cost is bounded by pattern length × name length.
 */
import { MeridianError } from '../errors.js'

export type PolicyErrorCode = 'invalid-policy' | 'invalid-glob'

/**
 * Lives beside the glob compiler rather than in policy.ts because policy.ts
 * depends on this module and glob errors are policy errors too; policy.ts
 * re-exports it.
 */
export class PolicyError extends MeridianError {
  declare readonly code: PolicyErrorCode
  constructor(code: PolicyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'PolicyError'
  }
}

/** Longest accepted pattern, in code points. */
export const MAX_GLOB_LENGTH = 256

type Token =
  | { kind: 'literal'; char: string }
  | { kind: 'one' } // `?`
  | { kind: 'star' } // `*`
  | { kind: 'globstar' } // `**`
  // Consumes nothing: lets `**/` standing as a whole segment match zero segments
  // by jumping past the globstar and its slash. It precedes the globstar, so the
  // jump is only possible before the globstar has consumed anything.
  | { kind: 'skip' }

const SLASH = '/'

const fail = (pattern: string, why: string): never => {
  throw new PolicyError('invalid-glob', `invalid glob ${JSON.stringify(pattern)}: ${why}`)
}

const codePointLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`

const tokenize = (pattern: string): Token[] => {
  if (pattern.length === 0) fail(pattern, 'empty pattern')
  const chars = Array.from(pattern)
  if (chars.length > MAX_GLOB_LENGTH) fail(pattern, `longer than ${MAX_GLOB_LENGTH} characters`)
  const tokens: Token[] = []
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string
    const cp = char.codePointAt(0) as number
    // Such a pattern could never match a valid document name, so it is a typo.
    if (cp <= 0x1f || cp === 0x7f) fail(pattern, `control character ${codePointLabel(cp)} at position ${i}`)
    if (cp >= 0xd800 && cp <= 0xdfff) fail(pattern, `lone surrogate ${codePointLabel(cp)} at position ${i}`)
    if (char === '?') {
      tokens.push({ kind: 'one' })
    } else if (char !== '*') {
      tokens.push({ kind: 'literal', char })
    } else {
      let run = 1
      while (chars[i + run] === '*') run++
      if (run > 2) fail(pattern, `"${'*'.repeat(run)}" at position ${i}: use "*" or "**"`)
      if (run === 1) {
        tokens.push({ kind: 'star' })
      } else {
        const wholeSegment = (i === 0 || chars[i - 1] === SLASH) && chars[i + 2] === SLASH
        if (wholeSegment) {
          tokens.push({ kind: 'skip' }, { kind: 'globstar' }, { kind: 'literal', char: SLASH })
          i++
        } else {
          tokens.push({ kind: 'globstar' })
        }
      }
      i += run - 1
    }
  }
  return tokens
}

/** Whether `char` can be consumed by `token` (the transition on a character). */
const accepts = (token: Token, char: string): boolean => {
  switch (token.kind) {
    case 'literal':
      return token.char === char
    case 'one':
    case 'star':
      return char !== SLASH
    case 'globstar':
      return true
    case 'skip':
      return false
  }
}

const compileTokens = (tokens: readonly Token[]): ((name: string) => boolean) => {
  const n = tokens.length
  const loops = tokens.map((t) => t.kind === 'star' || t.kind === 'globstar')
  // Epsilon edges only point forward, so one ascending pass computes the closure.
  const close = (states: Uint8Array): void => {
    for (let i = 0; i < n; i++) {
      if (states[i] === 0) continue
      if (loops[i]) states[i + 1] = 1
      if (tokens[i]?.kind === 'skip') {
        states[i + 1] = 1
        states[i + 3] = 1
      }
    }
  }
  return (name) => {
    let current = new Uint8Array(n + 1)
    let next = new Uint8Array(n + 1)
    current[0] = 1
    close(current)
    for (const char of name) {
      next.fill(0)
      let alive = false
      for (let i = 0; i < n; i++) {
        if (current[i] === 0 || !accepts(tokens[i] as Token, char)) continue
        next[loops[i] ? i : i + 1] = 1
        alive = true
      }
      if (!alive) return false
      close(next)
      ;[current, next] = [next, current]
    }
    return current[n] === 1
  }
}

/**
 * Compiles `pattern` once for repeated use. Throws `PolicyError` with code
 * 'invalid-glob' for an empty pattern, one longer than `MAX_GLOB_LENGTH`
 * code points, a run of three or more `*`, a control character or a lone
 * surrogate (the last two can never occur in a valid document name).
 */
export const compileGlob = (pattern: string): ((name: string) => boolean) => {
  const tokens = tokenize(pattern)
  if (tokens.every((t) => t.kind === 'literal')) return (name) => name === pattern
  if (pattern === '**') return () => true
  const firstWild = tokens.findIndex((t) => t.kind !== 'literal')
  const prefix = tokens
    .slice(0, firstWild)
    .map((t) => (t.kind === 'literal' ? t.char : ''))
    .join('')
  const rest = compileTokens(tokens.slice(firstWild))
  // Most policy globs are `prefix/**`; the prefix check settles most names cheaply.
  return (name) => name.startsWith(prefix) && rest(name.slice(prefix.length))
}

/** One-off match; prefer `compileGlob` when the same pattern is used repeatedly. */
export const matchGlob = (pattern: string, name: string): boolean => compileGlob(pattern)(name)
