/**
 * Collected results: JSON rows (`--json`) and one Markdown table per
 * scenario, each figure followed by its ratio to Meridian's.
 */
import fs from 'node:fs'
import { REFERENCE } from '../systems.js'

export interface Row {
  scenario: string
  system: string
  metric: string
  value: number | null
  unit: string
  note?: string
}

export interface Column {
  metric: string
  unit: string
  /** Decimals shown; the JSON keeps full precision. */
  decimals?: number
  /** Print the ratio to the reference row (default true). */
  ratio?: boolean
}

export class Report {
  readonly rows: Row[] = []
  private readonly failures: Row[] = []
  private readonly notes = new Map<string, string[]>()

  add(scenario: string, system: string, metric: string, value: number, unit: string): void {
    this.rows.push({ scenario, system, metric, value: Number.isFinite(value) ? value : null, unit })
  }

  fail(scenario: string, system: string, reason: string): void {
    const note = reason.split('\n')[0]!.slice(0, 300)
    this.failures.push({ scenario, system, metric: 'error', value: null, unit: '', note })
  }

  note(scenario: string, text: string): void {
    const list = this.notes.get(scenario) ?? []
    list.push(text)
    this.notes.set(scenario, list)
  }

  value(scenario: string, system: string, metric: string): number | null {
    return this.rows.find((r) => r.scenario === scenario && r.system === system && r.metric === metric)?.value ?? null
  }

  /** A Markdown table: one row per system (or link), one column (and ratio) per metric. */
  table(scenario: string, columns: Column[], reference = REFERENCE): string {
    const systems = [...new Set([...this.rows, ...this.failures].filter((r) => r.scenario === scenario).map((r) => r.system))]
    const head = ['system']
    for (const c of columns) {
      head.push(`${c.metric} (${c.unit})`)
      if (c.ratio !== false) head.push('× M')
    }
    const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`]
    for (const system of systems) {
      const failure = this.failures.find((f) => f.scenario === scenario && f.system === system)
      const cells = [system]
      for (const c of columns) {
        const v = this.value(scenario, system, c.metric)
        const ref = this.value(scenario, reference, c.metric)
        cells.push(v === null ? (failure ? 'failed' : '—') : fmt(v, c.decimals ?? 2))
        if (c.ratio !== false) cells.push(v === null || ref === null || ref === 0 ? '—' : `${fmt(v / ref, 2)}×`)
      }
      lines.push(`| ${cells.join(' | ')} |`)
    }
    for (const f of this.failures.filter((x) => x.scenario === scenario)) lines.push(`\n- ${f.system} failed: ${f.note}`)
    for (const n of this.notes.get(scenario) ?? []) lines.push(`\n- ${n}`)
    return lines.join('\n')
  }

  /** A JSON array of rows; a system that failed a scenario has one row with metric "error", value null and a note. */
  writeJson(file: string): void {
    fs.writeFileSync(file, `${JSON.stringify([...this.rows, ...this.failures], null, 1)}\n`)
  }
}

export function fmt(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return '—'
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  return v.toFixed(decimals)
}
