/**
 * The audit trail statements of the SQLite job store (`scheduler_audit`), with the guarantees of
 * `postgresql/audit.ts`: each audited job write is one transaction holding the change and its
 * audit row, the row inserted under a savepoint (SQLite docs, "SAVEPOINT"), so a failure to write
 * it is reported to the context's `onError` and the change still commits. No row locks are needed:
 * the transaction (`BEGIN IMMEDIATE`) holds the write lock while it reads the row before the change.
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import type { AuditEntry } from '../audit.js'
import { auditedWrites } from '../audited-writes.js'
import { historyQueries } from '../history-queries.js'
import type { JobRecord } from '../job-store.js'
import { JOB_COLUMNS } from '../rows.js'
import * as jobs from './jobs.js'
import { nowParam, NOW_MS, SQLITE_SQL, sqliteRowToJob } from './sql.js'

/** Inserts audit rows in one statement (the caller's transaction, or on its own). */
export async function insertAudit (db: SqlExecutor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO scheduler_audit (at, action, job_id, actor, changes)
     SELECT coalesce(value ->> 0, ${NOW_MS}), value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1)`,
    [JSON.stringify(entries.map((entry) => [entry.at === undefined || entry.at === null ? null : entry.at.getTime(), entry.action, entry.jobId, entry.actor, entry.changesJson]))]
  )
}

/** No row locks on SQLite: the transaction (`BEGIN IMMEDIATE`) holds the write lock while it reads. */
async function lockedJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  return jobs.getJob(tx, id)
}

async function deleteJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`DELETE FROM scheduler_job WHERE id = ?1 RETURNING ${JOB_COLUMNS}`, [id])
  return row === undefined ? null : sqliteRowToJob(row)
}

/** The audited job writes (audited-writes.ts) over this dialect's statements. */
export const { addJob, addJobs, updateJob, removeJob, auditRun } = auditedWrites({
  insertAudit, lockedJob, deleteJob, addJob: jobs.addJob, insertJobs: jobs.insertJobs, updateJob: jobs.updateJob
})

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const rows = await db.query(`DELETE FROM scheduler_audit WHERE at < ${nowParam(2)} - ?1 * 1000 RETURNING 1`, [maxAgeSeconds, now])
  return rows.length
}

/** The audit list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getAudit, countAudit } = historyQueries(SQLITE_SQL)
