/**
 * The audit trail statements of the PostgreSQL (and PGlite) job store (`scheduler_audit`): the
 * audit rows' insert, the filtered reads and the retention delete, and the audited job writes
 * (`audited-writes.ts`: each one transaction holding the change and its audit row, under a
 * savepoint) over this store's statements.
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import type { AuditEntry } from '../audit.js'
import { auditedWrites } from '../audited-writes.js'
import { historyQueries } from '../history-queries.js'
import type { JobRecord } from '../job-store.js'
import { JOB_COLUMNS, nowParam, rowToJob } from '../rows.js'
import * as jobs from './jobs.js'
import { POSTGRESQL_SQL } from './sql.js'

/** Inserts audit rows in one statement (the caller's transaction, or on its own). */
export async function insertAudit (db: SqlExecutor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO scheduler_audit (at, action, job_id, actor, changes)
     SELECT coalesce(at, now()), action, job_id, actor, changes
     FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) AS entry (at, action, job_id, actor, changes)`,
    [entries.map((entry) => entry.at), entries.map((entry) => entry.action), entries.map((entry) => entry.jobId),
      entries.map((entry) => entry.actor), entries.map((entry) => entry.changesJson)]
  )
}

async function lockedJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = $1 FOR NO KEY UPDATE`, [id])
  return row === undefined ? null : rowToJob(row)
}

async function deleteJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`DELETE FROM scheduler_job WHERE id = $1 RETURNING ${JOB_COLUMNS}`, [id])
  return row === undefined ? null : rowToJob(row)
}

/** The audited job writes (audited-writes.ts) over this dialect's statements. */
export const { addJob, addJobs, updateJob, removeJob, auditRun } = auditedWrites({
  insertAudit, lockedJob, deleteJob, addJob: jobs.addJob, insertJobs: jobs.insertJobs, updateJob: jobs.updateJob
})

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `WITH deleted AS (DELETE FROM scheduler_audit WHERE at < ${nowParam(2)} - make_interval(secs => $1) RETURNING 1)
     SELECT count(*)::integer AS count FROM deleted`,
    [maxAgeSeconds, now]
  )
  return row?.count ?? 0
}

/** The audit list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getAudit, countAudit } = historyQueries(POSTGRESQL_SQL)
