/**
 * Hostile document names: path escapes (plain and percent-encoded), bad
 * percent-encoding and UTF-8, control characters, oversized names. Each is
 * refused with InvalidDocName before anything is loaded or sent. Paths go
 * out byte for byte over a hand-spoken WebSocket (see raw-ws.ts).
 */
import { expect } from 'vitest'
import { CloseCode as C } from '@meridian/core'
import type { CaseContext, HostileCase } from '../support/hostile-suite.js'
import { DEADLINE_MS, withDeadline } from '../support/deadline.js'
import { openRawSession, type RawClose } from '../support/raw-ws.js'

const nameAttack =
  (path: string) =>
  async (ctx: CaseContext): Promise<RawClose> => {
    const loadedBefore = ctx.relay.docs.size
    const session = openRawSession(ctx.port, path)
    const status = await withDeadline(session.upgraded, DEADLINE_MS, 'the upgrade answer')
    expect(status, 'the relay answers the upgrade, then closes with a code a client can read').toContain(' 101 ')
    const close = await withDeadline(session.closed, DEADLINE_MS, 'the relay to close the connection')
    expect(close.dataFrames, 'messages sent before refusing the name').toBe(0)
    expect(ctx.relay.docs.size, 'documents loaded for a refused name').toBe(loadedBefore)
    return close
  }

const refused = (name: string, path: string): HostileCase => ({ name: `doc name: ${name}`, expect: C.InvalidDocName, attack: nameAttack(path) })

export const nameCases: HostileCase[] = [
  refused('/../x', '/../x'),
  refused('percent-encoded ../x', '/%2e%2e/x'),
  refused('upper-case percent-encoded ..', '/%2E%2E'),
  refused('.. in the middle', '/a/%2e%2e/b'),
  refused('.. behind encoded slashes (a%2F..%2Fb)', '/a%2F..%2Fb'),
  refused('./x', '/./x'),
  refused('trailing .', '/a/.'),
  refused('bad percent-encoding %zz', '/%zz'),
  refused('lone %', '/abc%'),
  refused('truncated UTF-8 sequence', '/abc%e0%a4'),
  refused('encoded UTF-16 surrogate', '/%ed%a0%80'),
  refused('overlong UTF-8 for "/"', '/%c0%af'),
  refused('NUL', '/a%00b'),
  refused('newline', '/a%0Ab'),
  refused('DEL', '/a%7Fb'),
  refused('600-byte name', `/${'n'.repeat(600)}`),
  refused('600 percent-encoded bytes', `/${'%41'.repeat(600)}`),
  refused('10 KB path', `/${'a'.repeat(10_000)}`),
  refused('empty name', '/'),
  refused('empty name with a query', '/?token=x'),
  refused('leading slash after decoding', '/%2Fetc%2Fpasswd'),
  refused('double slash', '//x'),
]
