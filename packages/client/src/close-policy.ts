/**
 * What a provider does after its connection closed, decided from the close
 * code alone (plus the region list a refusal carried). Kept apart from the
 * provider so the table can be read, and tested, in one place.
 */
import { CloseCode } from '@meridian/core'
import type { ClientErrorCode } from './errors.js'

export type CloseAction =
  /** Transient: retry after backoff; enough of these in a row move to another region. */
  | { kind: 'retry' }
  /** This region cannot serve now (storage failing): move to another one at once. */
  | { kind: 'failover' }
  /** The policy keeps the document out of this region; `regions` may serve it (null: unknown). */
  | { kind: 'wrong-region'; regions: string[] | null }
  /** The token was refused: fetch a fresh one if we can. */
  | { kind: 'reauthenticate' }
  /** Back off hard before the next try. */
  | { kind: 'rate-limited' }
  /** Retrying cannot help; stop and report. */
  | { kind: 'fatal'; code: ClientErrorCode }

/** ws reports a message over the relay's maxPayload with this standard code. */
const MESSAGE_TOO_BIG = 1009

export function classifyClose(code: number, reason: string, refusalRegions: readonly string[] | null): CloseAction {
  switch (code) {
    case CloseCode.WrongRegion:
      return { kind: 'wrong-region', regions: refusalRegions ? [...refusalRegions] : parseRegionsFromReason(reason) }
    case CloseCode.StorageUnavailable:
      return { kind: 'failover' }
    case CloseCode.Unauthorized:
      return { kind: 'reauthenticate' }
    case CloseCode.Forbidden:
      return { kind: 'fatal', code: 'forbidden' }
    case CloseCode.InvalidDocName:
      return { kind: 'fatal', code: 'invalid-doc-name' }
    case CloseCode.RateLimited:
      return { kind: 'rate-limited' }
    // The relay refused what we sent; sending the same again would loop.
    case CloseCode.MalformedMessage:
    case CloseCode.InvalidUpdate:
    case CloseCode.UnsupportedData:
    case MESSAGE_TOO_BIG:
      return { kind: 'fatal', code: 'protocol-rejected' }
    default:
      // 1001 shutdown, 1006 dropped, 1011, 4001, 4008, 4009, 4010 and anything unknown.
      return { kind: 'retry' }
  }
}

/**
 * Regions named at the end of a close reason (`wrong region; regions=eu,us`).
 * Close reasons are capped at 123 bytes, so the list may be cut short: a
 * truncated last name is still a name we may not know, which the router ignores.
 */
export function parseRegionsFromReason(reason: string): string[] | null {
  const match = /(?:^|[;\s])regions=([^;\s]*)\s*$/.exec(reason)
  if (!match) return null
  const regions = match[1]!.split(',').map((r) => r.trim()).filter((r) => r.length > 0)
  return regions.length > 0 ? regions : null
}
