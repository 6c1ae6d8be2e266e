/**
 * The audit trail statements of the MySQL/MariaDB job store (`scheduler_audit`, as
 * `postgresql/audit.ts`): the audited job writes (each one transaction holding the change and its
 * audit row), the audit rows' insert, the filtered reads and the retention delete. The insert runs
 * inside a savepoint (MySQL and MariaDB have `SAVEPOINT` too): a failure to write the audit row is
 * reported to the context's `onError`, and the job change still commits.
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import type { AuditEntry } from '../audit.js'
import { auditedWrites } from '../audited-writes.js'
import { historyQueries } from '../history-queries.js'
import type { JobRecord } from '../job-store.js'
import { rowToJob } from '../rows.js'
import * as jobs from './jobs.js'
import { affectedRows, minusMs, MYSQL_JOB_COLUMNS, MYSQL_SQL, NOW } from './sql.js'

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

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  return affectedRows(await db.query(`DELETE FROM scheduler_audit WHERE at < ${minusMs(NOW)}`, [now, maxAgeSeconds * 1000]))
}

/** The audit list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getAudit, countAudit } = historyQueries(MYSQL_SQL)
