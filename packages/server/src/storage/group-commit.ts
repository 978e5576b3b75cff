/**
 * Group commit: updates that arrive in the same event-loop turn, and all that
 * arrive while a batch is being written, share one `store.append`, so one
 * fsync covers many client messages. Batches are written one after another,
 * which keeps every document's updates in arrival order on disk.
 *
 * Fail-stop: once a batch fails, every waiting and later update is rejected.
 * Whether the failed batch reached the disk is unknown, and acknowledging
 * later updates on top of it would promise a durability we cannot prove.
 */
import { StorageError, toStorageError, type DocStore } from './doc-store.js'
import { encodeName } from './keys.js'

export interface GroupCommitOptions {
  /** Upper bound on entries per `store.append`; a longer queue is written as several batches. */
  maxBatchEntries?: number
  /** Called once per failed batch, with the error its waiters were rejected with. */
  onError?: (err: StorageError) => void
  /**
   * How long the first update of a batch waits for others before the batch is
   * written; 0 (the default) writes at the end of the event-loop turn. A
   * window trades ack latency for fewer fsyncs under many small writers.
   */
  windowMs?: number
}

interface Waiter {
  doc: string
  update: Uint8Array
  resolve: (seq: number) => void
  reject: (err: StorageError) => void
}

const DEFAULT_MAX_BATCH_ENTRIES = 4096

export class GroupCommitter {
  private readonly maxBatchEntries: number
  private readonly onError: ((err: StorageError) => void) | undefined
  private queue: Waiter[] = []
  private inFlight = 0
  private writing = false
  private scheduled: { immediate: ReturnType<typeof setImmediate> } | { timer: ReturnType<typeof setTimeout> } | null = null
  private readonly windowMs: number
  /** The promise of the newest enqueue; batches settle in order, so it settles last. */
  private tail: Promise<number> | null = null
  private failure: StorageError | null = null
  private closing: Promise<void> | null = null

  constructor(
    private readonly store: DocStore,
    options: GroupCommitOptions = {},
  ) {
    const max = options.maxBatchEntries ?? DEFAULT_MAX_BATCH_ENTRIES
    if (!Number.isSafeInteger(max) || max < 1) throw new StorageError('storage-invalid', 'maxBatchEntries must be a positive integer')
    this.maxBatchEntries = max
    this.onError = options.onError
    this.windowMs = options.windowMs ?? 0
  }

  /** Updates queued or being written, not yet settled. */
  get pending(): number {
    return this.queue.length + this.inFlight
  }

  /** False once a batch failed, or when the store itself reports a failure. */
  get healthy(): boolean {
    return this.failure === null && this.store.healthy
  }

  enqueue(doc: string, update: Uint8Array): Promise<number> {
    if (this.closing) return Promise.reject(new StorageError('storage-closed', 'the group committer is closed'))
    if (this.failure) return Promise.reject(this.afterFailure())
    try {
      // Checked here so one bad entry is refused alone instead of failing its whole batch.
      encodeName(doc)
      if (!(update instanceof Uint8Array) || update.length === 0) {
        throw new StorageError('storage-invalid', 'update must be non-empty bytes')
      }
    } catch (err) {
      return Promise.reject(err)
    }
    const promise = new Promise<number>((resolve, reject) => {
      this.queue.push({ doc, update, resolve, reject })
    })
    this.tail = promise
    this.schedule()
    return promise
  }

  /** Resolves once everything enqueued so far is written; cuts a waiting window short. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.afterFailure())
    if (this.pending === 0 || !this.tail) return Promise.resolve()
    if (this.scheduled) this.drainNow()
    return this.tail.then(() => undefined)
  }

  /**
   * Stops taking updates and waits until every queued one has settled. Always
   * resolves: a failure has already been reported to each waiter and to onError.
   * Does not close the store, which the caller owns.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.flush().catch(() => undefined)
    return this.closing
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return
    // setImmediate rather than a microtask: it runs after every socket callback
    // of this I/O phase, so one batch takes a whole turn's worth of messages.
    this.scheduled =
      this.windowMs > 0 ? { timer: setTimeout(() => this.drainNow(), this.windowMs) } : { immediate: setImmediate(() => this.drainNow()) }
  }

  private drainNow(): void {
    const scheduled = this.scheduled
    if (!scheduled) return
    this.scheduled = null
    if ('timer' in scheduled) clearTimeout(scheduled.timer)
    else clearImmediate(scheduled.immediate)
    void this.drain()
  }

  private async drain(): Promise<void> {
    this.writing = true
    while (this.queue.length > 0 && !this.failure) {
      const batch = this.queue.splice(0, this.maxBatchEntries)
      this.inFlight = batch.length
      try {
        const seqs = await this.store.append(batch.map(({ doc, update }) => ({ doc, update })))
        for (const waiter of batch) {
          const seq = seqs.get(waiter.doc)
          if (seq === undefined) waiter.reject(new StorageError('storage-failed', `the store returned no seq for ${JSON.stringify(waiter.doc)}`))
          else waiter.resolve(seq)
        }
      } catch (err) {
        const error = toStorageError(err, 'storage-failed', 'group commit failed')
        this.failure = error
        for (const waiter of batch) waiter.reject(error)
        this.onError?.(error)
      } finally {
        this.inFlight = 0
      }
    }
    if (this.failure) {
      const rest = this.queue
      this.queue = []
      for (const waiter of rest) waiter.reject(this.afterFailure())
    }
    this.writing = false
  }

  private afterFailure(): StorageError {
    return new StorageError('storage-failed', 'an earlier group commit failed; nothing more is acknowledged', { cause: this.failure })
  }
}
