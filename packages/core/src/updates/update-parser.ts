/**
 * A structural parser for the Yjs update v1 format that allocates nothing per
 * declared count and does work proportional to the bytes it reads.
 *
 * Why it exists: yjs trusts the counts it reads (`new Array(numberOfStructs)`,
 * `for (i < len)`) and lib0's `readUint8` returns `undefined` past the end, so
 * hostile bytes have made the real decoder spin or allocate without bound
 * (yjs issues 479, 498, 687; docs/updates.md has what still applies). Every
 * count here is checked against the bytes left before its loop runs, so no
 * loop can outlast the input.
 *
 * The layout mirrors yjs 13.6 `readClientsStructRefs`, `readItemContent`,
 * `readDeleteSet` and lib0 `readAny`; rules stricter than yjs (zero-length
 * structs, flag bits on GC/Skip, invalid JSON, parent info other than 0/1)
 * reject shapes no yjs encoder emits but that the real decoder would accept
 * into a poisoned document.
 */
import { DecodeError } from '../errors.js'
import { SafeReader } from '../protocol/reader.js'

export interface ParseBudget {
  maxStructs: number
  maxDeleteRanges: number
  /** Deepest nesting of arrays/objects inside `any` values and JSON texts. */
  maxAnyDepth: number
}

export interface ParsedCounts {
  structs: number
  deleteRanges: number
  clients: number
}

/** Called for every struct in order; `skip` marks a Skip (a gap, no content). */
export type StructVisitor = (client: number, clock: number, length: number, skip: boolean) => void

/** Recursion guard for `any` values regardless of the budget a caller passes. */
export const ANY_DEPTH_CEILING = 1024

// Content refs: the low five bits of a struct's info byte.
const REF_GC = 0, REF_DELETED = 1, REF_JSON = 2, REF_BINARY = 3, REF_STRING = 4, REF_EMBED = 5
const REF_FORMAT = 6, REF_TYPE = 7, REF_ANY = 8, REF_DOC = 9, REF_SKIP = 10

const HAS_ORIGIN = 0x80
const HAS_RIGHT_ORIGIN = 0x40
const HAS_PARENT_SUB = 0x20
const REF_MASK = 0x1f

const TYPE_XML_ELEMENT = 3
const TYPE_XML_HOOK = 5
const MAX_TYPE_REF = 6

const ANY_OBJECT = 118
const ANY_ARRAY = 117

const MAX_CLOCK = Number.MAX_SAFE_INTEGER

const bad = (message: string): DecodeError => new DecodeError('bad-update', message)

/** Nesting depth of a JSON text; brackets inside strings do not count. */
const jsonDepthExceeds = (text: string, maxDepth: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

class UpdateV1Parser {
  private readonly r: SafeReader
  private structs = 0
  private deleteRanges = 0

  constructor(
    bytes: Uint8Array,
    private readonly budget: ParseBudget,
    private readonly visit: StructVisitor | undefined,
  ) {
    this.r = new SafeReader(bytes)
  }

  parse(): ParsedCounts {
    const clients = this.structSection()
    this.deleteSet()
    this.r.expectEnd('update')
    return { structs: this.structs, deleteRanges: this.deleteRanges, clients }
  }

  /** A count whose elements each take at least `minBytes`, so it cannot exceed what is left. */
  private count(field: string, minBytes: number): number {
    const n = this.r.readVarUint(field)
    if (n * minBytes > this.r.remaining) {
      throw new DecodeError('bad-length', `${field}: ${n} entries cannot fit in the ${this.r.remaining} bytes left`)
    }
    return n
  }

  private length(field: string): number {
    const n = this.r.readVarUint(field)
    if (n === 0) throw bad(`${field}: zero-length struct`)
    return n
  }

  private structSection(): number {
    // A client entry is at least three varints: struct count, client, clock.
    const numClients = this.count('client count', 3)
    for (let c = 0; c < numClients; c++) {
      const numStructs = this.count('struct count', 2)
      this.structs += numStructs
      if (this.structs > this.budget.maxStructs) {
        throw bad(`update declares more than ${this.budget.maxStructs} structs`)
      }
      const client = this.r.readVarUint('client id')
      let clock = this.r.readVarUint('start clock')
      for (let s = 0; s < numStructs; s++) {
        const info = this.r.readUint8('struct info')
        const len = this.struct(info, client, clock)
        if (len > MAX_CLOCK - clock) throw bad(`client ${client}: clock overflows at struct ${s}`)
        this.visit?.(client, clock, len, info === REF_SKIP)
        clock += len
      }
    }
    return numClients
  }

  /** Parses one struct after its info byte; returns its length in clock units. */
  private struct(info: number, client: number, clock: number): number {
    const r = this.r
    const ref = info & REF_MASK
    if (ref === REF_GC || ref === REF_SKIP) {
      if (info !== ref) throw bad(`GC/Skip struct with flag bits 0x${info.toString(16)}`)
      return this.length(ref === REF_GC ? 'GC length' : 'Skip length')
    }
    if (ref > REF_DOC) throw new DecodeError('unknown-type', `unknown struct content ref ${ref}`)
    if (info & HAS_ORIGIN) this.earlierId('origin', client, clock)
    if (info & HAS_RIGHT_ORIGIN) this.earlierId('right origin', client, clock)
    if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
      // Without neighbours the item names its parent: a root type key or a type's id.
      const parentInfo = r.readVarUint('parent info')
      if (parentInfo === 1) r.readVarString('parent key')
      else if (parentInfo === 0) this.earlierId('parent id', client, clock)
      else throw bad(`parent info ${parentInfo} is neither 0 nor 1`)
      if (info & HAS_PARENT_SUB) r.readVarString('parent sub key')
    }
    return this.content(ref)
  }

  /**
   * An item can only point at something that existed before it: an id of its
   * own client at its own clock or later is impossible in an honest update,
   * and makes yjs throw half-way through integrating (after earlier structs
   * of the same update already changed the document).
   */
  private earlierId(field: string, client: number, clock: number): void {
    const idClient = this.r.readVarUint(`${field} client`)
    const idClock = this.r.readVarUint(`${field} clock`)
    if (idClient === client && idClock >= clock) throw bad(`${field} (${idClient}, ${idClock}) is not before the struct (${client}, ${clock})`)
  }

  private content(ref: number): number {
    const r = this.r
    switch (ref) {
      case REF_DELETED:
        return this.length('deleted length')
      case REF_JSON: {
        const n = this.count('JSON content count', 1)
        if (n === 0) throw bad('JSON content: zero-length struct')
        for (let i = 0; i < n; i++) {
          const text = r.readVarString('JSON content')
          if (text !== 'undefined') this.json(text, 'JSON content')
        }
        return n
      }
      case REF_BINARY:
        r.readVarBytes('binary content')
        return 1
      case REF_STRING: {
        // Item length is in UTF-16 units, as yjs counts it.
        const len = r.readVarString('string content').length
        if (len === 0) throw bad('string content: zero-length struct')
        return len
      }
      case REF_EMBED:
        this.json(r.readVarString('embed'), 'embed')
        return 1
      case REF_FORMAT:
        r.readVarString('format key')
        this.json(r.readVarString('format value'), 'format value')
        return 1
      case REF_TYPE: {
        const typeRef = r.readVarUint('type ref')
        if (typeRef > MAX_TYPE_REF) throw new DecodeError('unknown-type', `unknown shared type ref ${typeRef}`)
        if (typeRef === TYPE_XML_ELEMENT || typeRef === TYPE_XML_HOOK) r.readVarString('xml node name')
        return 1
      }
      case REF_ANY: {
        const n = this.count('any content count', 1)
        if (n === 0) throw bad('any content: zero-length struct')
        for (let i = 0; i < n; i++) this.any(0)
        return n
      }
      case REF_DOC: {
        r.readVarString('subdocument guid')
        // yjs spreads the options into `new Doc(...)` and reads fields off them.
        if (r.remaining > 0 && r.bytes[r.offset] !== ANY_OBJECT) throw bad('subdocument options are not an object')
        this.any(0)
        return 1
      }
      default:
        throw new DecodeError('unknown-type', `unknown struct content ref ${ref}`)
    }
  }

  private json(text: string, field: string): void {
    if (jsonDepthExceeds(text, this.budget.maxAnyDepth)) throw bad(`${field}: JSON nested deeper than ${this.budget.maxAnyDepth}`)
    try {
      JSON.parse(text)
    } catch {
      throw bad(`${field}: not valid JSON`)
    }
  }

  /** lib0 `any`: a tag byte (116..127) and its payload. */
  private any(depth: number): void {
    const r = this.r
    const tag = r.readUint8('any tag')
    switch (tag) {
      case 127: // undefined
      case 126: // null
      case 121: // false
      case 120: // true
        return
      case 125:
        this.varInt()
        return
      case 124: // float32: any bit pattern is a valid value
        for (let i = 0; i < 4; i++) r.readUint8('any float32')
        return
      case 123:
      case 122: // float64 and bigint64 are both 8 raw bytes
        r.readFloat64('any 8-byte number')
        return
      case 119:
        r.readVarString('any string')
        return
      case ANY_OBJECT:
      case ANY_ARRAY: {
        if (depth >= this.budget.maxAnyDepth) throw bad(`any value nested deeper than ${this.budget.maxAnyDepth}`)
        const isObject = tag === ANY_OBJECT
        // An object entry is a key length plus a value tag; an array entry a tag.
        const n = this.count(isObject ? 'any object size' : 'any array length', isObject ? 2 : 1)
        for (let i = 0; i < n; i++) {
          if (isObject) r.readVarString('any object key')
          this.any(depth + 1)
        }
        return
      }
      case 116:
        r.readVarBytes('any bytes')
        return
      default:
        throw new DecodeError('unknown-type', `unknown any tag ${tag}`)
    }
  }

  /** lib0 signed varint: 6 value bits and a sign in the first byte, then 7 per byte. */
  private varInt(): void {
    let b = this.r.readUint8('any int')
    let value = b & 0x3f
    let mult = 64
    for (let bytes = 1; b & 0x80; bytes++) {
      if (bytes >= 8) throw new DecodeError('varint-overflow', 'any int: varint longer than 53 bits')
      b = this.r.readUint8('any int')
      value += (b & 0x7f) * mult
      mult *= 128
    }
    if (value > Number.MAX_SAFE_INTEGER) throw new DecodeError('varint-overflow', 'any int: does not fit 53 bits')
  }

  private deleteSet(): void {
    const numClients = this.count('delete set client count', 2)
    for (let c = 0; c < numClients; c++) {
      const client = this.r.readVarUint('delete set client')
      const numRanges = this.count('delete range count', 2)
      this.deleteRanges += numRanges
      if (this.deleteRanges > this.budget.maxDeleteRanges) {
        throw bad(`update declares more than ${this.budget.maxDeleteRanges} delete ranges`)
      }
      for (let i = 0; i < numRanges; i++) {
        const clock = this.r.readVarUint('delete range clock')
        const len = this.r.readVarUint('delete range length')
        if (len > MAX_CLOCK - clock) throw bad(`delete range of client ${client} overflows the clock`)
      }
    }
  }
}

/**
 * Walks a whole v1 update and throws `DecodeError` at the first violation.
 * Cost is linear in `bytes.length`; recursion is bounded by `maxAnyDepth`.
 */
export const parseUpdateV1 = (bytes: Uint8Array, budget: ParseBudget, visit?: StructVisitor): ParsedCounts =>
  new UpdateV1Parser(bytes, budget, visit).parse()
