/**
 * One direction of a peer link's batch stream (protocol 2, see the codec's
 * header): the frame position and the dictionary of recent payload bytes.
 * Sender and receiver each keep one per direction and advance it frame by
 * frame, so both hold the same dictionary for every frame.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { BATCH_STREAM_POSITIONS, DecodeError, PEER_LINK_DICTIONARY_BYTES } from '@meridian/core'

/** Payloads this small gain nothing from deflate, even with a dictionary. */
const COMPRESS_STREAM_FROM_BYTES = 16
/** Standalone frames have no dictionary: below this a deflate header costs more than it saves. */
const COMPRESS_STANDALONE_FROM_BYTES = 128
/**
 * Stream frames use a deflate window just the size of the dictionary, and
 * small ones a small hash table: zlib's setup per call (and the native memory
 * it allocates, which drives V8's full collections) is most of the cost of a
 * delta's compression, and it scales with both. The reader inflates with the
 * same window, so a frame deflated with a larger one fails to inflate.
 */
const STREAM_WINDOW_BITS = Math.log2(PEER_LINK_DICTIONARY_BYTES)
const SMALL_FRAME_BYTES = 4096

export interface Outgoing {
  compressed: boolean
  /** Position in the stream, or null for a standalone frame. */
  stream: number | null
  body: Uint8Array
}

export class LinkStream {
  private dictionary = new Uint8Array(0)
  private position = 0

  /** Compresses a payload as the next frame of this stream and advances it. */
  next(payload: Uint8Array): Outgoing {
    const stream = this.position++
    let body = payload
    if (payload.byteLength >= COMPRESS_STREAM_FROM_BYTES) {
      const deflated = new Uint8Array(deflateRawSync(payload, this.deflateOptions(payload.byteLength)))
      if (deflated.byteLength < payload.byteLength) body = deflated
    }
    this.remember(payload)
    return { compressed: body !== payload, stream, body }
  }

  /** Inflates the frame at `stream` (its position modulo 64) and advances; DecodeError if it is not the next one. */
  accept(stream: number, compressed: boolean, body: Uint8Array, maxPayloadBytes: number): Uint8Array {
    const expected = this.position % BATCH_STREAM_POSITIONS
    if (stream !== expected) {
      throw new DecodeError('bad-value', `peer frame out of sequence: stream position ${stream}, expected ${expected} (a frame was lost, repeated or reordered)`)
    }
    this.position++
    const payload = compressed ? inflate(body, maxPayloadBytes, this.dictionary, STREAM_WINDOW_BITS) : body
    this.remember(payload)
    return payload
  }

  private deflateOptions(bytes: number) {
    const dictionary = this.dictionary.byteLength > 0 ? this.dictionary : undefined
    return { windowBits: STREAM_WINDOW_BITS, memLevel: bytes <= SMALL_FRAME_BYTES ? 4 : 8, dictionary }
  }

  private remember(payload: Uint8Array): void {
    const capacity = PEER_LINK_DICTIONARY_BYTES
    if (payload.byteLength >= capacity) {
      this.dictionary = payload.slice(payload.byteLength - capacity)
      return
    }
    const keep = Math.min(this.dictionary.byteLength, capacity - payload.byteLength)
    const next = new Uint8Array(keep + payload.byteLength)
    next.set(this.dictionary.subarray(this.dictionary.byteLength - keep))
    next.set(payload, keep)
    this.dictionary = next
  }
}

/** A standalone frame: deflated without a dictionary when that makes it smaller. */
export const standaloneFrame = (payload: Uint8Array): Outgoing => {
  const deflated = payload.byteLength >= COMPRESS_STANDALONE_FROM_BYTES ? new Uint8Array(deflateRawSync(payload)) : null
  return deflated && deflated.byteLength < payload.byteLength
    ? { compressed: true, stream: null, body: deflated }
    : { compressed: false, stream: null, body: payload }
}

/** Inflates a frame body under the payload limit; a bomb or a wrong dictionary is a DecodeError. */
export const inflate = (body: Uint8Array, maxPayloadBytes: number, dictionary?: Uint8Array, windowBits = 15): Uint8Array => {
  try {
    const options = { maxOutputLength: maxPayloadBytes, windowBits, ...(dictionary && dictionary.byteLength > 0 ? { dictionary } : {}) }
    return new Uint8Array(inflateRawSync(body, options))
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecodeError('too-large', 'compressed batch does not inflate within the payload limit', { cause })
    }
    throw new DecodeError('bad-value', 'compressed batch does not inflate (corrupt, or deflated against another dictionary)', { cause })
  }
}
