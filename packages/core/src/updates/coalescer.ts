/**
 * Holds the updates queued for one document on one peer link and hands them
 * out as a single merged update.
 *
 * `Y.mergeUpdates` is linear per call but superlinear in the number of inputs
 * it is given at once (measured: ~2.2 s for one merge of 16,000 tiny
 * updates), so a long backlog must never be merged in one go. The shape is a
 * log-structured merge with two triggers:
 *
 * - Count tiers (a base-K counter): level 0 buffers raw updates; when a level
 *   holds K entries they are merged into one entry of the next level. Each
 *   byte is merged O(log_K n) times and every call merges at most K inputs.
 * - A byte guard: tiers alone keep every duplicate (the same content pushed
 *   twice costs twice), so when the bytes held exceed twice the size of the
 *   last full compaction (and a small floor) everything is merged into one
 *   base update. Merging dedupes, so the held bytes stay within about twice
 *   the merged size of the backlog, i.e. the document's size including
 *   deleted-but-not-collected content. Each compaction is paid for by the
 *   bytes pushed since the previous one, so the guard adds linear cost.
 *
 * Merged parts are held in the v2 encoding. `Y.mergeUpdates` never joins
 * adjacent structs (a decoded struct has no `right` neighbour, which
 * `Item.mergeWith` requires), so a merged v1 backlog of typing costs ~10
 * bytes per character; v2's column encoding brings that to ~1 byte, about
 * the document's own encoded size. `take()` converts back to v1, the wire
 * format. The v2 bytes are produced here by yjs, never received, so the v2
 * decoder-bomb problem (see validate.ts) does not apply.
 *
 * Updates must already be validated: they are passed to yjs as they are.
 */
import * as Y from 'yjs'

export interface CoalescerOptions {
  /** Updates merged per tier step (K). Default 64. */
  fanIn?: number
  /** Held bytes below which the byte guard never compacts. Default 32 KiB. */
  compactFloorBytes?: number
}

export const DEFAULT_FAN_IN = 64
export const DEFAULT_COMPACT_FLOOR_BYTES = 32 * 1024

interface Tier {
  parts: Uint8Array[]
  bytes: number
}

/** Level-0 updates arrive as v1; everything merged is held as v2 (see above). */
const v1ToV2 = (parts: Uint8Array[]): Uint8Array =>
  parts.length === 1 ? Y.convertUpdateFormatV1ToV2(parts[0]!) : Y.mergeUpdatesV2(parts, Y.UpdateDecoderV1, Y.UpdateEncoderV2)

const v2ToV1 = (parts: Uint8Array[]): Uint8Array =>
  parts.length === 1 ? Y.convertUpdateFormatV2ToV1(parts[0]!) : Y.mergeUpdatesV2(parts, Y.UpdateDecoderV2, Y.UpdateEncoderV1)

export class UpdateCoalescer {
  private readonly fanIn: number
  private readonly floorBytes: number
  /** tiers[0] holds raw v1 updates; tiers[i > 0] hold v2 merges of fanIn^i updates. */
  private tiers: Tier[] = []
  /** v2 result of the last compaction. */
  private base: Uint8Array | null = null
  private lastCompactedBytes = 0
  private count = 0
  private bytes = 0

  constructor(options: CoalescerOptions = {}) {
    const fanIn = options.fanIn ?? DEFAULT_FAN_IN
    const floor = options.compactFloorBytes ?? DEFAULT_COMPACT_FLOOR_BYTES
    if (!Number.isInteger(fanIn) || fanIn < 2) throw new RangeError(`fanIn must be an integer >= 2, got ${fanIn}`)
    if (!(floor >= 0)) throw new RangeError(`compactFloorBytes must be >= 0, got ${floor}`)
    this.fanIn = fanIn
    this.floorBytes = floor
  }

  /**
   * Queues a validated v1 update; the array is kept, not copied. Should yjs
   * throw while merging (it does not for validated input in our fuzzing),
   * the error propagates and the queue must be cleared and resynced.
   */
  push(update: Uint8Array): void {
    this.count++
    this.bytes += update.length
    this.addToTiers(update)
    if (this.bytes > Math.max(this.floorBytes, 2 * this.lastCompactedBytes)) this.compact()
  }

  /** Updates pushed since the last take (or clear). */
  get pendingUpdates(): number {
    return this.count
  }

  /** Bytes currently held, after whatever merging has happened. */
  get pendingBytes(): number {
    return this.bytes
  }

  isEmpty(): boolean {
    return this.count === 0
  }

  /** One v1 update equivalent to everything pushed since the last take; empties the queue. */
  take(): Uint8Array | null {
    if (this.count === 0) return null
    const raw = this.tiers[0]?.parts ?? []
    const merged = this.mergedV2Parts()
    // A backlog that never left tier 0 is merged in v1 directly (or not at all).
    const out = merged.length === 0 ? (raw.length === 1 ? raw[0]! : Y.mergeUpdates(raw)) : v2ToV1(raw.length > 0 ? [...merged, v1ToV2(raw)] : merged)
    this.clear()
    return out
  }

  clear(): void {
    this.tiers = []
    this.base = null
    this.lastCompactedBytes = 0
    this.count = 0
    this.bytes = 0
  }

  private addToTiers(update: Uint8Array): void {
    let carry = update
    for (let i = 0; ; i++) {
      const tier = (this.tiers[i] ??= { parts: [], bytes: 0 })
      tier.parts.push(carry)
      tier.bytes += carry.length
      if (tier.parts.length < this.fanIn) return
      carry = i === 0 ? v1ToV2(tier.parts) : Y.mergeUpdatesV2(tier.parts)
      this.bytes += carry.length - tier.bytes
      tier.parts = []
      tier.bytes = 0
    }
  }

  private compact(): void {
    const raw = this.tiers[0]?.parts ?? []
    const parts = this.mergedV2Parts()
    if (raw.length > 0) parts.push(v1ToV2(raw))
    const merged = parts.length === 1 ? parts[0]! : Y.mergeUpdatesV2(parts)
    this.tiers = []
    this.base = merged
    this.bytes = merged.length
    this.lastCompactedBytes = merged.length
  }

  /** Every held v2 part, oldest first: base, then the highest tier down to tier 1. */
  private mergedV2Parts(): Uint8Array[] {
    const parts: Uint8Array[] = this.base === null ? [] : [this.base]
    for (let i = this.tiers.length - 1; i >= 1; i--) parts.push(...this.tiers[i]!.parts)
    return parts
  }
}
