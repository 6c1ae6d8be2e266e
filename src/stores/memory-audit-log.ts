/**
 * The audit trail of `MemoryJobStore`: rows kept in memory, in the order written, with the same
 * filters, order (newest `at` first, then newest id) and retention as `scheduler_audit`. A job
 * change and its audit row happen in one synchronous step, so they are as atomic as the store's writes.
 */
import { auditEntry, jobChanges, type AuditContext, type AuditEntry, type AuditFilter, type AuditRecord } from './audit.js'
import type { ExecutionRecord, JobRecord } from './job-store.js'

export class MemoryAuditLog {
  readonly #rows: AuditRecord[] = []
  readonly #clock: () => Date
  #nextId = 1

  constructor (clock: () => Date) {
    this.#clock = clock
  }

  /** Records one job's change (`before` null: added; `after` null: removed). `replaced` turns an add into a modification. */
  recordJob (context: AuditContext | undefined, before: JobRecord | null, after: JobRecord | null): void {
    if (context === undefined) return
    const action = context.action === 'added' && before !== null ? 'modified' : context.action
    this.record([auditEntry({ ...context, action }, after?.id ?? before?.id ?? '', jobChanges(before, after))])
  }

  /** Records the `run` of a run-now, naming its execution. */
  recordRun (context: AuditContext | undefined, execution: ExecutionRecord): void {
    if (context === undefined) return
    this.record([auditEntry(context, execution.jobId, { executionId: { before: null, after: execution.id } })])
  }

  record (entries: AuditEntry[]): void {
    for (const entry of entries) {
      this.#rows.push({
        id: this.#nextId++,
        at: entry.at ?? this.#clock(),
        action: entry.action,
        jobId: entry.jobId,
        actor: entry.actor,
        changes: JSON.parse(entry.changesJson) as AuditRecord['changes']
      })
    }
  }

  get (filter: AuditFilter = {}): AuditRecord[] {
    const rows = this.#matching(filter).sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
    const offset = filter.offset ?? 0
    return structuredClone(rows.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit))
  }

  count (filter: AuditFilter = {}): number {
    return this.#matching(filter).length
  }

  deleteOld (maxAgeSeconds: number, now: Date | null): number {
    const cutoff = (now ?? this.#clock()).getTime() - maxAgeSeconds * 1000
    const kept = this.#rows.filter((row) => row.at.getTime() >= cutoff)
    const deleted = this.#rows.length - kept.length
    this.#rows.splice(0, this.#rows.length, ...kept)
    return deleted
  }

  #matching (filter: AuditFilter): AuditRecord[] {
    return this.#rows.filter((row) => (filter.jobId === undefined || row.jobId === filter.jobId) &&
      (filter.actor === undefined || row.actor === filter.actor) &&
      (filter.from === undefined || row.at >= filter.from) && (filter.to === undefined || row.at <= filter.to))
  }
}
