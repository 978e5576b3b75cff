/** Latency samples (ms) in a growable typed array; percentiles by sorting once. */
export class Samples {
  private data = new Float64Array(1 << 16)
  private n = 0

  add(value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = value
  }

  get count(): number {
    return this.n
  }

  summary(): LatencySummary {
    const sorted = this.data.slice(0, this.n).sort()
    return {
      count: this.n,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: this.n ? sorted[this.n - 1]! : NaN,
      mean: this.n ? sorted.reduce((a, b) => a + b, 0) / this.n : NaN,
    }
  }
}

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 0.5)
