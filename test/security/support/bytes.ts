/**
 * Builders for hostile bytes. lib0's encoder refuses nothing useful here
 * (and cannot write integers past 2^53), so varints are written by hand.
 */

export type Part = number | readonly number[] | Uint8Array

/** Concatenates numbers (one byte each), byte arrays and Uint8Arrays. */
export const bytes = (...parts: Part[]): Uint8Array => {
  let length = 0
  for (const p of parts) length += typeof p === 'number' ? 1 : p.length
  // No spread: some parts are hundreds of kilobytes (nesting bombs).
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    if (typeof p === 'number') out[at++] = p & 0xff
    else {
      out.set(p, at)
      at += p.length
    }
  }
  return out
}

/** LEB128 unsigned varint of any size (lib0's varUint layout). */
export const varUint = (value: number | bigint): Uint8Array => {
  let n = BigInt(value)
  const out: number[] = []
  do {
    const low = Number(n & 0x7fn)
    n >>= 7n
    out.push(n > 0n ? low | 0x80 : low)
  } while (n > 0n)
  return Uint8Array.from(out)
}

const utf8 = new TextEncoder()

export const varBytes = (payload: Uint8Array): Uint8Array => bytes(varUint(payload.length), payload)
export const varString = (text: string): Uint8Array => varBytes(utf8.encode(text))
/** A varString whose bytes are given raw (invalid UTF-8 on purpose). */
export const varRawString = (raw: readonly number[]): Uint8Array => bytes(varUint(raw.length), raw)

/** A varint that never ends within 53 bits: nine continuation bytes, then a terminator. */
export const OVERLONG_VARINT = bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
/** Eight bytes, terminated, but 2^56 - 1: over 53 bits. */
export const OVER_53_BITS = bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
/** A varint cut off: continuation bit set on the last byte. */
export const TRUNCATED_VARINT = bytes([0x80])

// Client message framing (y-websocket types), written by hand so lengths can lie.
export const MSG_SYNC = 0
export const MSG_AWARENESS = 1
export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

/** A sync-update message whose payload length is what the bytes say. */
export const syncUpdateOf = (update: Uint8Array): Uint8Array => bytes(MSG_SYNC, SYNC_UPDATE, varBytes(update))
export const syncStep2Of = (update: Uint8Array): Uint8Array => bytes(MSG_SYNC, SYNC_STEP2, varBytes(update))
export const syncStep1Of = (stateVector: Uint8Array): Uint8Array => bytes(MSG_SYNC, SYNC_STEP1, varBytes(stateVector))
export const awarenessOf = (payload: Uint8Array): Uint8Array => bytes(MSG_AWARENESS, varBytes(payload))

// Yjs v1 update pieces (see packages/core/src/updates/update-parser.ts).
export const REF = { GC: 0, DELETED: 1, JSON: 2, BINARY: 3, STRING: 4, EMBED: 5, FORMAT: 6, TYPE: 7, ANY: 8, DOC: 9, SKIP: 10 } as const
export const HAS_ORIGIN = 0x80
export const HAS_RIGHT_ORIGIN = 0x40
export const ANY_TAG = { UNDEFINED: 127, NULL: 126, INT: 125, STRING: 119, OBJECT: 118, ARRAY: 117, BYTES: 116 } as const

/** An update with one client entry holding the given structs (already encoded), and an empty delete set. */
export const oneClientUpdate = (client: number, clock: number | bigint, structs: Part[], structCount = structs.length): Uint8Array =>
  bytes(1, varUint(structCount), varUint(client), varUint(clock), ...structs, 0)

/** An item without origins, parented to root type `key`: info, parent info 1, key, then content. */
export const rootItem = (ref: number, key: string, ...content: Part[]): Uint8Array => bytes(ref, 1, varString(key), ...content)

/** A plain string insert into root text `t` (a valid struct). */
export const stringItem = (text: string, key = 't'): Uint8Array => rootItem(REF.STRING, key, varString(text))
