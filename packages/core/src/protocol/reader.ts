/**
 * A bounds-checked reader over one received message. Every read either
 * returns a value or throws a `DecodeError` with a code; nothing else escapes.
 * lib0's decoder is used for the varint arithmetic, but lengths are checked
 * here first so a hostile length prefix can never allocate or read past the
 * end of the buffer.
 */
import * as decoding from 'lib0/decoding'
import { DecodeError } from '../errors.js'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Longest varint we accept: 53 bits need at most 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8

export class SafeReader {
  private readonly decoder: decoding.Decoder

  constructor(readonly bytes: Uint8Array) {
    this.decoder = decoding.createDecoder(bytes)
  }

  get offset(): number {
    return this.decoder.pos
  }

  get remaining(): number {
    return this.bytes.length - this.decoder.pos
  }

  hasMore(): boolean {
    return this.remaining > 0
  }

  readVarUint(field = 'varint'): number {
    const start = this.decoder.pos
    // Scan for the terminating byte first so truncation and overflow get
    // distinct codes and lib0 never reads out of range.
    let i = start
    while (true) {
      if (i >= this.bytes.length) throw new DecodeError('truncated', `${field}: input ended inside a varint`)
      if (i - start >= MAX_VARINT_BYTES) throw new DecodeError('varint-overflow', `${field}: varint longer than 53 bits`)
      if ((this.bytes[i]! & 0x80) === 0) break
      i++
    }
    try {
      const n = decoding.readVarUint(this.decoder)
      if (!Number.isSafeInteger(n)) throw new Error('unsafe')
      return n
    } catch (cause) {
      throw new DecodeError('varint-overflow', `${field}: varint does not fit 53 bits`, { cause })
    }
  }

  /** A length-prefixed byte array; the view shares the message's memory. */
  readVarBytes(field = 'bytes', maxLength = Number.MAX_SAFE_INTEGER): Uint8Array {
    const len = this.readVarUint(`${field} length`)
    if (len > maxLength) throw new DecodeError('bad-length', `${field}: length ${len} over limit ${maxLength}`)
    if (len > this.remaining) throw new DecodeError('bad-length', `${field}: length ${len} past end of message (${this.remaining} left)`)
    const start = this.decoder.pos
    this.decoder.pos += len
    return this.bytes.subarray(start, start + len)
  }

  /** A length-prefixed UTF-8 string; invalid UTF-8 is rejected, not replaced. */
  readVarString(field = 'string', maxBytes = Number.MAX_SAFE_INTEGER): string {
    const raw = this.readVarBytes(field, maxBytes)
    try {
      return strictUtf8.decode(raw)
    } catch (cause) {
      throw new DecodeError('bad-utf8', `${field}: not valid UTF-8`, { cause })
    }
  }

  readUint8(field = 'byte'): number {
    if (this.remaining < 1) throw new DecodeError('truncated', `${field}: input ended`)
    return this.bytes[this.decoder.pos++]!
  }

  readFloat64(field = 'float64'): number {
    if (this.remaining < 8) throw new DecodeError('truncated', `${field}: input ended inside a float64`)
    return decoding.readFloat64(this.decoder)
  }

  /** The unread rest of the message, without a length prefix. */
  readRest(): Uint8Array {
    const start = this.decoder.pos
    this.decoder.pos = this.bytes.length
    return this.bytes.subarray(start)
  }

  /** Throws unless every byte was consumed: trailing garbage is an error, not ignored. */
  expectEnd(what: string): void {
    if (this.remaining !== 0) throw new DecodeError('trailing-bytes', `${what}: ${this.remaining} unexpected trailing bytes`)
  }
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError }

/**
 * Runs a decoder and converts every failure into a `DecodeError` result, so a
 * caller at the edge handles one shape. A non-DecodeError thrown inside is a
 * bug in the decoder; it is still reported as malformed input, with the cause.
 */
export const tryDecode = <T>(decode: () => T): DecodeResult<T> => {
  try {
    return { ok: true, value: decode() }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, error: err }
    return { ok: false, error: new DecodeError('bad-value', `decoder failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }) }
  }
}
