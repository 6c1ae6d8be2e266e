/**
 * The audit trail statements of the MySQL/MariaDB job store (`scheduler_audit`, as
 * `postgresql/audit.ts`): the audited job writes (each one transaction holding the change and its
 * audit row), the audit rows' insert, the filtered reads and the retention delete. The insert runs
 * inside a savepoint (MySQL and MariaDB have `SAVEPOINT` too): a failure to write the audit row is
 * reported to the context's `onError`, and the job change still commits.
 */
import { toDate, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditEntry, jobChanges, reportAuditFailure, type AuditAction, type AuditContext, type AuditEntry, type AuditFilter, type AuditRecord } from '../audit.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { rowToJob } from '../rows.js'
import * as jobs from './jobs.js'
import { affectedRows, minusMs, MYSQL_JOB_COLUMNS, NOW } from './sql.js'

const AUDIT_COLUMNS = 'id, at, action, job_id, actor, changes'

/** Inserts audit rows in one statement (the caller's transaction, or on its own). */
export async function insertAudit (db: SqlExecutor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO scheduler_audit (at, action, job_id, actor, changes) VALUES ${entries.map(() => '(COALESCE(?, UTC_TIMESTAMP(3)), ?, ?, ?, ?)').join(', ')}`,
    entries.flatMap((entry) => [entry.at, entry.action, entry.jobId, entry.actor, entry.changesJson])
  )
}

/** {@link insertAudit} inside transaction `tx`, under a savepoint: a failure is reported, and the transaction goes on. */
async function insertAuditInTransaction (tx: SqlExecutor, context: AuditContext, entries: AuditEntry[]): Promise<void> {
  await tx.query('SAVEPOINT audit_row')
  try {
    await insertAudit(tx, entries)
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT audit_row')
    reportAuditFailure(context, error)
    return
  }
  await tx.query('RELEASE SAVEPOINT audit_row')
}

function entryOf (context: AuditContext, action: AuditAction, before: JobRecord | null, after: JobRecord | null): AuditEntry {
  const id = after?.id ?? before?.id ?? ''
  return auditEntry({ ...context, action }, id, jobChanges(before, after))
}

async function lockedJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job WHERE id = ? FOR UPDATE`, [id])
  return row === undefined ? null : rowToJob(row)
}

export async function addJob (db: SqlClient, job: NewJobRecord, options: { replaceExisting?: boolean }, audit: AuditContext): Promise<JobRecord> {
  return db.transaction(async (tx) => {
    const before = options.replaceExisting === true ? await lockedJob(tx, job.id) : null
    const added = await jobs.addJob(tx, job, options)
    await insertAuditInTransaction(tx, audit, [entryOf(audit, before === null ? audit.action : 'modified', before, added)])
    return added
  })
}

export async function addJobs (db: SqlClient, records: NewJobRecord[], audit: AuditContext): Promise<JobRecord[]> {
  if (records.length === 0) return []
  return db.transaction(async (tx) => {
    const added = await jobs.insertJobs(tx, records)
    await insertAuditInTransaction(tx, audit, added.map((job) => entryOf(audit, audit.action, null, job)))
    return added
  })
}

export async function updateJob (db: SqlClient, id: string, patch: JobPatch, options: { expectedVersion?: number }, audit: AuditContext): Promise<JobRecord> {
  return db.transaction(async (tx) => {
    const before = await lockedJob(tx, id)
    const after = await jobs.updateJob(tx, id, patch, options)
    await insertAuditInTransaction(tx, audit, [entryOf(audit, audit.action, before, after)])
    return after
  })
}

export async function removeJob (db: SqlClient, id: string, audit: AuditContext): Promise<boolean> {
  return db.transaction(async (tx) => {
    const before = await lockedJob(tx, id)
    if (before === null) return false
    await tx.query('DELETE FROM scheduler_job WHERE id = ?', [id])
    await insertAuditInTransaction(tx, audit, [entryOf(audit, audit.action, before, null)])
    return true
  })
}

/** Writes the `run` audit row of a run-now, in the transaction `tx` that made its execution. */
export async function auditRun (tx: SqlExecutor, audit: AuditContext | undefined, execution: ExecutionRecord | null): Promise<void> {
  if (audit === undefined || execution === null) return
  await insertAuditInTransaction(tx, audit, [auditEntry(audit, execution.jobId, { executionId: { before: null, after: execution.id } })])
}

export async function getAudit (db: SqlExecutor, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  const where = auditWhere(filter)
  const rows = await db.query<Record<string, any>>(
    `SELECT ${AUDIT_COLUMNS} FROM scheduler_audit WHERE ${where.sql} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
    [...where.values, filter.limit ?? Number.MAX_SAFE_INTEGER, filter.offset ?? 0]
  )
  return rows.map((row) => ({
    id: Number(row.id),
    at: toDate(row.at),
    action: row.action,
    jobId: row.job_id,
    actor: row.actor,
    changes: typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes
  }))
}

export async function countAudit (db: SqlExecutor, filter: AuditFilter = {}): Promise<number> {
  const where = auditWhere(filter)
  const [row] = await db.query<{ count: number }>(`SELECT count(*) AS count FROM scheduler_audit WHERE ${where.sql}`, where.values)
  return Number(row?.count ?? 0)
}

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  return affectedRows(await db.query(`DELETE FROM scheduler_audit WHERE at < ${minusMs(NOW)}`, [now, maxAgeSeconds * 1000]))
}

/** The WHERE clause of an audit filter (only the conditions given), with its values. */
function auditWhere (filter: AuditFilter): { sql: string, values: unknown[] } {
  const conditions = ['TRUE']
  const values: unknown[] = []
  const add = (condition: string, value: unknown): void => { if (value !== undefined && value !== null) { conditions.push(condition); values.push(value) } }
  add('job_id = ?', filter.jobId)
  add('actor = ?', filter.actor)
  add('at >= ?', filter.from)
  add('at <= ?', filter.to)
  return { sql: conditions.join(' AND '), values }
}
