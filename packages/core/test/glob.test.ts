import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { compileGlob, matchGlob, MAX_GLOB_LENGTH, PolicyError } from '../src/policy/glob.js'

describe('glob semantics', () => {
  const table: [pattern: string, name: string, expected: boolean][] = [
    ['notes', 'notes', true],
    ['notes', 'notes2', false],
    ['notes', 'Notes', false],
    ['*', 'abc', true],
    ['*', '', true],
    ['*', 'a/b', false],
    ['a/*', 'a/b', true],
    ['a/*', 'a/', true],
    ['a/*', 'a/b/c', false],
    ['a/*', 'a', false],
    ['*/*', 'a/b', true],
    ['*/*', 'a/b/c', false],
    ['*.md', 'readme.md', true],
    ['*.md', 'readmeXmd', false],
    // `a/**` is everything under a/, never a itself.
    ['a/**', 'a/b', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'a/', true],
    ['a/**', 'a', false],
    ['a/**', 'ab/c', false],
    ['**', '', true],
    ['**', 'x/y/z', true],
    // `**/` as a whole segment also matches zero segments.
    ['**/b', 'b', true],
    ['**/b', 'x/b', true],
    ['**/b', 'x/y/b', true],
    ['**/b', 'xb', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/xb', false],
    ['a/**/b', 'ab', false],
    // `**` inside a segment is a plain "anything".
    ['a**', 'a', true],
    ['a**', 'a/b/c', true],
    ['**b', 'x/yb', true],
    ['x**/y', 'x/y', true],
    ['x**/y', 'xa/b/y', true],
    ['x**/y', 'y', false],
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['?', '/', false],
    ['?', '😀', true],
    ['?', 'é', true],
    ['doc-?', 'doc-1', true],
    ['café/*', 'café/menu', true],
    ['*', 'a\u2028b', true],
    ['?', '\u2029', true],
    // Regex metacharacters and backslash are literal.
    ['a.c', 'a.c', true],
    ['a.c', 'abc', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['(a|b)', '(a|b)', true],
    ['(a|b)', 'a', false],
    ['[ab]', '[ab]', true],
    ['[ab]', 'a', false],
    ['^a$', '^a$', true],
    ['{a,b}', '{a,b}', true],
    ['{a,b}', 'a', false],
    ['a\\*', 'a\\x', true],
    ['a\\*', 'ax', false],
  ]

  it.each(table)('%j matches %j: %s', (pattern, name, expected) => {
    expect(matchGlob(pattern, name)).toBe(expected)
    expect(compileGlob(pattern)(name)).toBe(expected)
  })

  it('refuses invalid patterns with PolicyError code invalid-glob', () => {
    const bad = ['', 'a'.repeat(MAX_GLOB_LENGTH + 1), '***', 'a/***/b', '****', 'a\nb', 'x\u007f', '\ud800', 'a\udc00b']
    for (const pattern of bad) {
      let caught: unknown
      try {
        compileGlob(pattern)
      } catch (err) {
        caught = err
      }
      expect(caught, JSON.stringify(pattern)).toBeInstanceOf(PolicyError)
      expect((caught as PolicyError).code).toBe('invalid-glob')
    }
  })

  it('counts the length limit in code points', () => {
    expect(compileGlob('😀'.repeat(MAX_GLOB_LENGTH))('😀'.repeat(MAX_GLOB_LENGTH))).toBe(true)
    expect(() => compileGlob('😀'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(PolicyError)
  })

  it('stays linear on patterns that make backtracking engines explode', () => {
    const pattern = '*a'.repeat(12) + '*b'
    expect(matchGlob(pattern, 'a'.repeat(500))).toBe(false)
    expect(matchGlob('**a**a**a**a**a**a**b', 'a/'.repeat(250))).toBe(false)
  })
})

// Characters that are special to RegExp, to globs, or multi-unit in UTF-16.
const literalUnit = fc.constantFrom(...'ab/.+()[]{}^$|\\-é😀'.match(/./gu)!)
const literalArb = fc.string({ unit: literalUnit, minLength: 1, maxLength: 12 })

/** An independent reference: the same semantics through a RegExp, for short inputs only. */
const referenceMatch = (pattern: string, name: string): boolean => {
  let source = ''
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === '*' && chars[i + 1] === '*') {
      const wholeSegment = (i === 0 || chars[i - 1] === '/') && chars[i + 2] === '/'
      source += wholeSegment ? '(?:.*/)?' : '.*'
      i += wholeSegment ? 2 : 1
    } else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else source += c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 'su').test(name)
}

describe('glob properties', () => {
  it('a pattern without wildcards matches exactly itself', () => {
    fc.assert(
      fc.property(literalArb, literalArb, (pattern, other) => {
        const matches = compileGlob(pattern)
        expect(matches(pattern)).toBe(true)
        expect(matches(other)).toBe(other === pattern)
      }),
      { numRuns: 500 },
    )
  })

  it('"**" matches every string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
        expect(matchGlob('**', name)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('"*" matches exactly the strings without "/"', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '/', '😀', '.'), maxLength: 10 }), (name) => {
        expect(matchGlob('*', name)).toBe(!name.includes('/'))
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with a RegExp reference on random patterns and names', () => {
    const patternArb = fc
      .array(fc.constantFrom('a', 'b', '/', '*', '**', '?', '.'), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.join(''))
      .filter((p) => !p.includes('***'))
    const nameArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.'), maxLength: 8 })
    fc.assert(
      fc.property(patternArb, nameArb, (pattern, name) => {
        expect(matchGlob(pattern, name)).toBe(referenceMatch(pattern, name))
      }),
      { numRuns: 2000 },
    )
  })
})
