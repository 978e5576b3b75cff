/**
 * Named one-shot timers owned by one object, so that `clearAll()` in a
 * destroy() provably leaves none behind. Setting a name again replaces it.
 */
export class TimerSet {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()

  set(name: string, ms: number, fn: () => void): void {
    this.clear(name)
    const timer = setTimeout(() => {
      this.timers.delete(name)
      fn()
    }, Math.max(0, ms))
    this.timers.set(name, timer)
  }

  has(name: string): boolean {
    return this.timers.has(name)
  }

  clear(name: string): void {
    const timer = this.timers.get(name)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(name)
  }

  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  get size(): number {
    return this.timers.size
  }
}
