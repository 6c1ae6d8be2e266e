/**
 * The audit trail statements of the PostgreSQL (and PGlite) job store (`scheduler_audit`): the
 * audited job writes (each one transaction holding the change and its audit row), the audit rows'
 * insert, the filtered reads and the retention delete.
 *
 * The insert runs inside a savepoint: when it fails (the table dropped, a privilege missing) the
 * savepoint is rolled back, the failure goes to the context's `onError`, and the job change still
 * commits. An audit row therefore exists exactly when its change committed, unless writing the row
 * itself failed, which is reported.
 */
import { toDate, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditEntry, jobChanges, reportAuditFailure, type AuditAction, type AuditContext, type AuditEntry, type AuditFilter, type AuditRecord } from '../audit.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
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

/** {@link insertAudit} inside transaction `tx`, under a savepoint: a failure is reported, and the transaction goes on. */
async function insertAuditInTransaction (tx: SqlExecutor, context: AuditContext, entries: AuditEntry[]): Promise<void> {
  // (Not named after the table: the schema placement would qualify the name.)
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

/** The audit entry of one job's change, as `context` says, with the action given (`replaceExisting` turns an add into a modification). */
function entryOf (context: AuditContext, action: AuditAction, before: JobRecord | null, after: JobRecord | null): AuditEntry {
  const id = after?.id ?? before?.id ?? ''
  return auditEntry({ ...context, action }, id, jobChanges(before, after))
}

async function lockedJob (tx: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await tx.query(`SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = $1 FOR NO KEY UPDATE`, [id])
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
    const [row] = await tx.query(`DELETE FROM scheduler_job WHERE id = $1 RETURNING ${JOB_COLUMNS}`, [id])
    if (row === undefined) return false
    await insertAuditInTransaction(tx, audit, [entryOf(audit, audit.action, rowToJob(row), null)])
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
