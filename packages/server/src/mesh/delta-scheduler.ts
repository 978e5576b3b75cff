/**
 * When a peer's queued deltas leave: each document when its cadence makes it
 * due (the earliest due document decides when the timer fires), all due
 * documents together in one go, and nothing while the link's send buffer is
 * over its high-water mark (the queue keeps coalescing meanwhile, so a slow
 * link costs memory per document, not per update).
 */
import { PeerQueue, type QueuedDelta } from './peer-queue.js'

const BACKPRESSURE_RETRY_MS = 25

export class DeltaScheduler {
  readonly queue = new PeerQueue()
  private timer: ReturnType<typeof setTimeout> | null = null
  /** When the armed timer fires; null for the backpressure retry, which is not tied to a due time. */
  private timerDueAt: number | null = null
  private immediate: ReturnType<typeof setImmediate> | null = null
  private closed = false

  constructor(
    private readonly bufferedAmount: () => number,
    private readonly highWaterBytes: number,
    private readonly send: (due: QueuedDelta[]) => void,
  ) {}

  push(doc: string, update: Uint8Array, originRegion: string, originTime: number, cadenceMs: number): void {
    if (this.closed) return
    this.queue.push(doc, update, originRegion, originTime, cadenceMs, Date.now())
    this.schedule()
  }

  private schedule(): void {
    if (this.closed || this.immediate) return
    const due = this.queue.nextDueAt()
    if (due === null) return
    const wait = due - Date.now()
    if (wait <= 0) {
      this.clearTimer()
      this.immediate = setImmediate(this.flush)
    } else if (this.timerDueAt === null || due < this.timerDueAt) {
      // A document with a shorter cadence may become due before the armed timer.
      this.clearTimer()
      this.timerDueAt = due
      this.timer = setTimeout(this.fire, wait)
    }
  }

  private readonly fire = (): void => {
    this.timer = null
    this.timerDueAt = null
    this.flush()
  }

  private readonly flush = (): void => {
    this.immediate = null
    if (this.closed) return
    if (this.bufferedAmount() > this.highWaterBytes) {
      this.timer ??= setTimeout(this.fire, BACKPRESSURE_RETRY_MS)
      return
    }
    const due = this.queue.takeDue(Date.now())
    if (due.length > 0) this.send(due)
    this.schedule()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.timerDueAt = null
  }

  /** Idempotent; whatever is still queued is recovered by the next catch-up. */
  close(): void {
    this.closed = true
    this.clearTimer()
    if (this.immediate) clearImmediate(this.immediate)
    this.immediate = null
    this.queue.clear()
  }
}
