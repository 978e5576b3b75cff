/**
 * Hostile WebSocket framing below the protocol: the relay's `ws` server must
 * refuse it with a standard close code and the relay must not notice beyond
 * losing that connection. Sent by hand because the `ws` client cannot write
 * invalid frames.
 */
import type { CaseContext, HostileCase } from '../support/hostile-suite.js'
import { SHARED_DOC } from '../support/hostile-suite.js'
import { DEADLINE_MS, withDeadline } from '../support/deadline.js'
import { openRawSession, type RawClose, type RawSession } from '../support/raw-ws.js'
import { bytes } from '../support/bytes.js'
import { FRAMING_MAX_MESSAGE_BYTES } from './framing.js'

const PROTOCOL_ERROR = 1002
const INVALID_PAYLOAD = 1007
const MESSAGE_TOO_BIG = 1009

const OP_CONTINUATION = 0
const OP_TEXT = 1
const OP_BINARY = 2
const OP_PING = 9

const rawAttack =
  (send: (s: RawSession) => void) =>
  async (ctx: CaseContext): Promise<RawClose> => {
    const session = openRawSession(ctx.port, `/${encodeURIComponent(SHARED_DOC)}`)
    const status = await withDeadline(session.upgraded, DEADLINE_MS, 'the upgrade answer')
    if (!status.includes(' 101 ')) throw new Error(`upgrade refused: ${status}`)
    send(session)
    return withDeadline(session.closed, DEADLINE_MS, 'the relay to close the raw session')
  }

export const wsFrameCases: HostileCase[] = [
  { name: 'ws: unmasked client frame', expect: PROTOCOL_ERROR, attack: rawAttack((s) => s.sendFrame(OP_BINARY, bytes(3), { mask: false })) },
  { name: 'ws: reserved opcode 3', expect: PROTOCOL_ERROR, attack: rawAttack((s) => s.sendFrame(3, bytes(3))) },
  { name: 'ws: RSV1 set without an extension', expect: PROTOCOL_ERROR, attack: rawAttack((s) => s.sendFrame(OP_BINARY, bytes(3), { rsv: 4 })) },
  { name: 'ws: fragmented ping', expect: PROTOCOL_ERROR, attack: rawAttack((s) => s.sendFrame(OP_PING, bytes(1), { fin: false })) },
  { name: 'ws: continuation without a first fragment', expect: PROTOCOL_ERROR, attack: rawAttack((s) => s.sendFrame(OP_CONTINUATION, bytes(3))) },
  {
    name: 'ws: frame header declaring 2^53 bytes',
    expect: MESSAGE_TOO_BIG,
    attack: rawAttack((s) => s.sendFrame(OP_BINARY, new Uint8Array(0), { declaredLength: 2n ** 53n })),
  },
  {
    name: 'ws: header declaring one byte over maxMessageBytes, body never sent',
    expect: MESSAGE_TOO_BIG,
    attack: rawAttack((s) => s.sendFrame(OP_BINARY, new Uint8Array(0), { declaredLength: BigInt(FRAMING_MAX_MESSAGE_BYTES + 1) })),
  },
  {
    name: 'ws: fragments adding up past maxMessageBytes',
    expect: MESSAGE_TOO_BIG,
    attack: rawAttack((s) => {
      const piece = new Uint8Array(FRAMING_MAX_MESSAGE_BYTES / 4)
      s.sendFrame(OP_BINARY, piece, { fin: false })
      for (let i = 0; i < 5; i++) s.sendFrame(OP_CONTINUATION, piece, { fin: false })
    }),
  },
  { name: 'ws: text frame that is not UTF-8', expect: INVALID_PAYLOAD, attack: rawAttack((s) => s.sendFrame(OP_TEXT, bytes(0xc3, 0x28))) },
]
