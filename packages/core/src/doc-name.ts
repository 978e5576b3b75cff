/**
 * Document names: arbitrary Unicode, limited so that every name has exactly
 * one UTF-8 encoding (storage keys), shows up unambiguously in logs, and
 * survives a round trip through a WebSocket URL. Rules are in docs/policy.md.
 */
import { MeridianError } from './errors.js'

/** Longest document name, counted in UTF-8 bytes (what storage keys hold). */
export const MAX_DOC_NAME_BYTES = 512

export class DocNameError extends MeridianError {
  declare readonly code: 'invalid-doc-name'
  constructor(message: string) {
    super('invalid-doc-name', message)
    this.name = 'DocNameError'
  }
}

const codePointLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`

/** Why `name` is refused, or null when it is a valid document name. */
const problemWith = (name: unknown): string | null => {
  if (typeof name !== 'string') return `expected a string, got ${name === null ? 'null' : typeof name}`
  if (name.length === 0) return 'empty name'
  // A well-formed string never has more UTF-16 units than UTF-8 bytes, so
  // this bounds the scan below on hostile input.
  if (name.length > MAX_DOC_NAME_BYTES) return `longer than ${MAX_DOC_NAME_BYTES} UTF-8 bytes`
  let bytes = 0
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i)
    if (unit <= 0x1f || unit === 0x7f) return `control character ${codePointLabel(unit)} at index ${i}`
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = name.charCodeAt(i + 1)
      if (!(low >= 0xdc00 && low <= 0xdfff)) return `lone surrogate ${codePointLabel(unit)} at index ${i} (not representable in UTF-8)`
      bytes += 4
      i++
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return `lone surrogate ${codePointLabel(unit)} at index ${i} (not representable in UTF-8)`
    } else {
      bytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3
    }
  }
  if (bytes > MAX_DOC_NAME_BYTES) return `${bytes} UTF-8 bytes, longer than ${MAX_DOC_NAME_BYTES}`
  if (name.startsWith('/')) return 'leading "/"'
  // WHATWG URL parsing (browsers' WebSocket, Node's URL) rewrites "." and
  // ".." segments, even percent-encoded, so such a name could not be reached
  // by URL; ".." also reads like a path escape in logs.
  for (const segment of name.split('/')) {
    if (segment === '.' || segment === '..') return `"${segment}" path segment`
  }
  return null
}

/** Throws `DocNameError` (code 'invalid-doc-name') saying why `name` is refused. */
export const validateDocName = (name: string): void => {
  const problem = problemWith(name)
  if (problem !== null) throw new DocNameError(`invalid document name: ${problem}`)
}

export const isValidDocName = (name: string): boolean => problemWith(name) === null

/**
 * The document name addressed by a client URL path such as `/team%2Fnotes?token=…`:
 * drops a query string or fragment, one leading "/", then percent-decodes
 * (UTF-8; "+" stays "+"). Throws `DocNameError` on malformed percent-encoding
 * or when the decoded name is invalid.
 */
export const docNameFromUrlPath = (pathname: string): string => {
  const end = pathname.search(/[?#]/)
  let raw = end === -1 ? pathname : pathname.slice(0, end)
  if (raw.startsWith('/')) raw = raw.slice(1)
  // Each decoded byte takes at most three characters ("%XX"), so longer input
  // is refused before decoding a hostile multi-megabyte path.
  if (raw.length > 3 * MAX_DOC_NAME_BYTES) throw new DocNameError(`invalid document name: longer than ${MAX_DOC_NAME_BYTES} UTF-8 bytes`)
  let name: string
  try {
    name = decodeURIComponent(raw)
  } catch {
    throw new DocNameError('invalid document name: malformed percent-encoding in URL path')
  }
  validateDocName(name)
  return name
}
