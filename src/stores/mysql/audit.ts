/**
 * The audit trail statements of the MySQL/MariaDB job store (`scheduler_audit`, as
 * `postgresql/audit.ts`): the audited job writes (each one transaction holding the change and its
 * audit row), the audit rows' insert, the filtered reads and the retention delete. The insert runs
 * inside a savepoint (MySQL and MariaDB have `SAVEPOINT` too): a failure to write the audit row is
 * reported to the context's `onError`, and the job change still commits.
 */
import { toDate, type SqlExecutor } from '../../sql/sql-client.js'
import type { AuditEntry, AuditFilter, AuditRecord } from '../audit.js'
import { auditedWrites } from '../audited-writes.js'
import type { JobRecord } from '../job-store.js'
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

async function lockedJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job WHERE id = ? FOR UPDATE`, [id])
  return row === undefined ? null : rowToJob(row)
}

/** No `DELETE … RETURNING` on MySQL: the row is read under its lock, then deleted. */
async function deleteJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const before = await lockedJob(tx, id)
  if (before !== null) await tx.query('DELETE FROM scheduler_job WHERE id = ?', [id])
  return before
}

/** The audited job writes (audited-writes.ts) over this dialect's statements. */
export const { addJob, addJobs, updateJob, removeJob, auditRun } = auditedWrites({
  insertAudit, lockedJob, deleteJob, addJob: jobs.addJob, insertJobs: jobs.insertJobs, updateJob: jobs.updateJob
})

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
