/**
 * The audit trail statements of the PostgreSQL (and PGlite) job store (`scheduler_audit`): the
 * audit rows' insert, the filtered reads and the retention delete, and the audited job writes
 * (`audited-writes.ts`: each one transaction holding the change and its audit row, under a
 * savepoint) over this store's statements.
 */
import { toDate, type SqlExecutor } from '../../sql/sql-client.js'
import type { AuditEntry, AuditFilter, AuditRecord } from '../audit.js'
import { auditedWrites } from '../audited-writes.js'
import type { JobRecord } from '../job-store.js'
import { JOB_COLUMNS, nowParam, rowToJob } from '../rows.js'
import * as jobs from './jobs.js'

const AUDIT_COLUMNS = 'id, at, action, job_id, actor, changes'

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

export async function getAudit (db: SqlExecutor, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  const where = auditWhere(filter)
  const rows = await db.query<Record<string, any>>(
    `SELECT ${AUDIT_COLUMNS} FROM scheduler_audit WHERE ${where.sql}
     ORDER BY at DESC, id DESC LIMIT $${where.values.length + 1} OFFSET $${where.values.length + 2}`,
    [...where.values, filter.limit ?? null, filter.offset ?? 0]
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
  const [row] = await db.query<{ count: number }>(`SELECT count(*)::integer AS count FROM scheduler_audit WHERE ${where.sql}`, where.values)
  return row?.count ?? 0
}

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `WITH deleted AS (DELETE FROM scheduler_audit WHERE at < ${nowParam(2)} - make_interval(secs => $1) RETURNING 1)
     SELECT count(*)::integer AS count FROM deleted`,
    [maxAgeSeconds, now]
  )
  return row?.count ?? 0
}

/** The WHERE clause of an audit filter, with its values as $1.. */
function auditWhere (filter: AuditFilter): { sql: string, values: unknown[] } {
  return {
    sql: `($1::text IS NULL OR job_id = $1) AND ($2::text IS NULL OR actor = $2)
      AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at <= $4)`,
    values: [filter.jobId ?? null, filter.actor ?? null, filter.from ?? null, filter.to ?? null]
  }
}
