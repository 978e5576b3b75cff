import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MeridianError } from '../src/errors.js'
import { MAX_DOC_NAME_BYTES, docNameFromUrlPath, isValidDocName, validateDocName } from '../src/doc-name.js'

const refusal = (run: () => unknown): MeridianError => {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError)
    expect((err as MeridianError).code).toBe('invalid-doc-name')
    return err as MeridianError
  }
  throw new Error('expected a refusal')
}

describe('validateDocName', () => {
  it.each([
    'notes',
    'team/notes/2024',
    'a/',
    'a//b',
    'café ☕ 文档 😀',
    '...',
    '.hidden/..x/x..',
    'a b?c#d%e+f\\g',
    '\u0080\u009f\u2028',
  ])('accepts %j', (name) => {
    expect(() => validateDocName(name)).not.toThrow()
    expect(isValidDocName(name)).toBe(true)
  })

  const refused: [name: string, reason: RegExp][] = [
    ['', /empty/],
    ['a\u0000b', /control character U\+0000 at index 1/],
    ['tab\there', /control character U\+0009/],
    ['line\n', /control character U\+000A/],
    ['\u001f', /control character U\+001F/],
    ['del\u007f', /control character U\+007F/],
    ['lone \ud800 high', /lone surrogate U\+D800 at index 5/],
    ['lone low \udc00', /lone surrogate U\+DC00/],
    ['reversed \ude00\ud83d', /lone surrogate U\+DE00/],
    ['trailing high \ud83d', /lone surrogate U\+D83D/],
    ['/leading', /leading "\/"/],
    ['..', /"\.\." path segment/],
    ['a/../b', /"\.\." path segment/],
    ['a/..', /"\.\." path segment/],
    ['./a', /"\." path segment/],
    ['a/./b', /"\." path segment/],
  ]

  it.each(refused)('refuses %j', (name, reason) => {
    expect(refusal(() => validateDocName(name)).message).toMatch(reason)
    expect(isValidDocName(name)).toBe(false)
  })

  it('refuses non-strings from untyped callers', () => {
    expect(refusal(() => validateDocName(42 as unknown as string)).message).toMatch(/expected a string, got number/)
  })

  it('counts the limit in UTF-8 bytes', () => {
    const cases: [unit: string, bytes: number][] = [
      ['a', 1],
      ['é', 2],
      ['文', 3],
      ['😀', 4],
    ]
    for (const [unit, bytes] of cases) {
      const fits = unit.repeat(Math.floor(MAX_DOC_NAME_BYTES / bytes))
      expect(isValidDocName(fits), `${unit} × ${fits.length}`).toBe(true)
      const over = fits + 'x'.repeat(MAX_DOC_NAME_BYTES - new TextEncoder().encode(fits).length + 1)
      expect(new TextEncoder().encode(over).length).toBe(MAX_DOC_NAME_BYTES + 1)
      expect(refusal(() => validateDocName(over)).message).toMatch(/longer than 512/)
    }
  })

  it('agrees with the UTF-8 byte count on random well-formed names', () => {
    const encoder = new TextEncoder()
    const unit = fc.constantFrom('a', 'é', '文', '😀', '/')
    fc.assert(
      fc.property(fc.string({ unit, minLength: 100, maxLength: 260 }), (body) => {
        const name = `x${body}`
        const bytes = encoder.encode(name).length
        const hasDotSegment = name.split('/').some((s) => s === '.' || s === '..')
        expect(isValidDocName(name)).toBe(bytes <= MAX_DOC_NAME_BYTES && !hasDotSegment)
      }),
      { numRuns: 300 },
    )
  })
})

describe('docNameFromUrlPath', () => {
  it.each([
    ['/notes', 'notes'],
    ['notes', 'notes'],
    ['/team/notes', 'team/notes'],
    ['/team%2Fnotes', 'team/notes'],
    ['/caf%C3%A9%20%E2%98%95', 'café ☕'],
    ['/%F0%9F%98%80', '😀'],
    ['/a+b', 'a+b'],
    ['/100%25', '100%'],
    ['/q%3Fx%23y', 'q?x#y'],
    ['/doc?token=abc', 'doc'],
    ['/doc?', 'doc'],
    ['/doc#frag', 'doc'],
  ])('%j → %j', (path, name) => {
    expect(docNameFromUrlPath(path)).toBe(name)
  })

  it('strips only one leading slash, so "//x" is refused as a leading "/"', () => {
    expect(refusal(() => docNameFromUrlPath('//x')).message).toMatch(/leading "\/"/)
  })

  it.each([
    ['/bad%', /percent-encoding/],
    ['/bad%2', /percent-encoding/],
    ['/bad%zz', /percent-encoding/],
    ['/%C3', /percent-encoding/], // truncated UTF-8
    ['/%ED%A0%80', /percent-encoding/], // an encoded surrogate is not UTF-8
    ['/%FF', /percent-encoding/],
    ['/', /empty/],
    ['/?token=x', /empty/],
    ['/a%00b', /control character U\+0000/],
    ['/a/%2e%2e/b', /"\.\." path segment/],
    ['/%2Fleading', /leading "\/"/],
    [`/${'%41'.repeat(MAX_DOC_NAME_BYTES + 1)}`, /longer than 512/],
    [`/${'a'.repeat(1_000_000)}`, /longer than 512/],
  ])('refuses %j', (path, reason) => {
    expect(refusal(() => docNameFromUrlPath(path)).message).toMatch(reason)
  })

  it('round-trips every valid name through encodeURIComponent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), (name) => {
        fc.pre(isValidDocName(name))
        expect(docNameFromUrlPath(`/${encodeURIComponent(name)}?token=t`)).toBe(name)
      }),
      { numRuns: 300 },
    )
  })
})
