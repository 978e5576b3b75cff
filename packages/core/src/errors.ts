/**
 * Every error Meridian raises on purpose carries a stable string code, so
 * callers branch on `err.code` rather than on message text.
 */
export type DecodeErrorCode =
  | 'truncated' // input ended in the middle of a field
  | 'varint-overflow' // a variable-length integer does not fit 53 bits
  | 'bad-length' // a length prefix points past the end or over a limit
  | 'unknown-type' // a message or sub-message type we do not know
  | 'trailing-bytes' // the message decoded but bytes were left over
  | 'bad-utf8' // a string field is not valid UTF-8
  | 'bad-value' // a field decoded but its value is out of range
  | 'bad-update' // a Yjs update that does not decode or breaks a budget
  | 'too-large' // the whole message exceeds the allowed size

export class MeridianError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'MeridianError'
  }
}

/** Raised (or returned) by every decoder in core when input is malformed. */
export class DecodeError extends MeridianError {
  declare readonly code: DecodeErrorCode
  constructor(code: DecodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'DecodeError'
  }
}

export const isDecodeError = (err: unknown): err is DecodeError => err instanceof DecodeError
