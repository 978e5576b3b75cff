/**
 * Which closes count as hostile input, and how to see the ones the `ws`
 * layer makes on its own.
 *
 * Relay closes: a connection the relay closed because of what the other end
 * sent (undecodable messages, invalid updates, text frames, spoofed
 * awareness, too much data, flooding, a bad document name). Closes for
 * other reasons (shutdown, slow consumer, wrong region, tokens, storage)
 * are not hostile input and are not counted.
 *
 * `ws` closes: `ws` refuses a frame over `maxPayload` (1009), a frame that
 * breaks RFC 6455 (1002) or invalid UTF-8 (1007) before the relay sees a
 * byte of it. Its close frame carries the code, but the 'close' event on
 * the relay's side reports 1006: `ws` stops reading once it failed, so it
 * never sees the peer's echo. What it does emit is an 'error' whose `code`
 * names the violation; that is what `watchProtocolErrors` listens to.
 */
import { CloseCode, closeCodeName } from '@meridian/core'
import type { MessageSocket } from '../transport/socket.js'

export type HostileSource = 'client' | 'peer'

/** Close codes the relay sends a client when its input was hostile. */
export const HOSTILE_CLIENT_CODES: ReadonlySet<number> = new Set([
  CloseCode.MalformedMessage,
  CloseCode.MessageTooLarge,
  CloseCode.InvalidUpdate,
  CloseCode.InvalidDocName,
  CloseCode.RateLimited,
  CloseCode.AwarenessSpoof,
  CloseCode.UnsupportedData,
])

/** The label for a close code: its name in CloseCode (ws's own included), else `code_<n>`. */
export const closeLabel = (code: number | string): string => (typeof code === 'string' ? code : (closeCodeName(code) ?? `code_${code}`))

const HOSTILE_NAMES: ReadonlySet<string> = new Set([...HOSTILE_CLIENT_CODES].map((c) => closeLabel(c)))

/** True for a relay close (by number or name) that means the client sent hostile input. */
export const isHostileClientClose = (code: number | string): boolean => HOSTILE_NAMES.has(closeLabel(code))

/**
 * The close code `ws` sent for one of its receiver errors, from the error's
 * documented `code` (WS_ERR_*); null for anything else.
 */
export const protocolErrorCloseCode = (err: unknown): number | null => {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return null
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return CloseCode.MessageTooBig
  if (code === 'WS_ERR_INVALID_UTF8') return CloseCode.InvalidPayload
  return CloseCode.ProtocolError
}

interface ErrorEmitter {
  on(event: 'error', listener: (err: unknown) => void): unknown
}

const hasErrorEvents = (ws: unknown): ws is ErrorEmitter =>
  typeof ws === 'object' && ws !== null && typeof (ws as { on?: unknown }).on === 'function'

/**
 * Calls `onClose(code)` when the `ws` socket under a MessageSocket closes it
 * for a protocol violation. MessageSocket has no error event (in-process
 * links cannot have frame errors), so this looks for the `ws` instance that
 * WsSocket exposes; for any other transport it does nothing.
 */
export const watchProtocolErrors = (socket: MessageSocket, onClose: (code: number) => void): void => {
  const ws = (socket as { ws?: unknown }).ws
  if (!hasErrorEvents(ws)) return
  // ws emits 'error' at most once per socket; the listener goes with it.
  ws.on('error', (err) => {
    const code = protocolErrorCloseCode(err)
    if (code !== null) onClose(code)
  })
}
