/**
 * Append-only audit trail of policy events (refused documents, removals on
 * narrowing, policy mismatches), as JSON lines under the data directory, plus
 * the most recent events in memory for /healthz and the dashboard.
 */
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'

export interface AuditEvent {
  time: string
  kind: 'peer-sent-disallowed-doc' | 'peer-requested-disallowed-doc' | 'client-wrong-region' | 'doc-removed-by-policy' | 'policy-mismatch' | 'peer-rejected'
  doc?: string
  peerRegion?: string
  detail?: string
}

const RECENT_EVENTS = 100

export class AuditLog {
  private readonly recentEvents: AuditEvent[] = []
  private writes: Promise<void> = Promise.resolve()
  readonly path: string | null

  constructor(dataDir: string | undefined, private readonly logger: Logger) {
    this.path = dataDir ? join(dataDir, 'audit.log') : null
  }

  record(event: Omit<AuditEvent, 'time'>): void {
    const full: AuditEvent = { time: new Date().toISOString(), ...event }
    this.recentEvents.push(full)
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift()
    this.logger.warn({ code: 'audit', ...full }, 'policy event')
    if (!this.path) return
    const line = `${JSON.stringify(full)}\n`
    const path = this.path
    this.writes = this.writes.then(() =>
      appendFile(path, line).catch((err: unknown) => this.logger.error({ code: 'audit-write-failed', err }, 'could not append to the audit log')),
    )
  }

  recent(): readonly AuditEvent[] {
    return this.recentEvents
  }

  /** Resolves when every recorded event is on disk. */
  flush(): Promise<void> {
    return this.writes
  }
}
