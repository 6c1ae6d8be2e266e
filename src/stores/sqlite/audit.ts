/**
 * The audit trail statements of the SQLite job store (`scheduler_audit`), with the guarantees of
 * `postgresql/audit.ts`: each audited job write is one transaction holding the change and its
 * audit row, the row inserted under a savepoint (SQLite docs, "SAVEPOINT"), so a failure to write
 * it is reported to the context's `onError` and the change still commits. No row locks are needed:
 * the transaction (`BEGIN IMMEDIATE`) holds the write lock while it reads the row before the change.
 */
import { toDate, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditEntry, jobChanges, reportAuditFailure, type AuditAction, type AuditContext, type AuditEntry, type AuditFilter, type AuditRecord } from '../audit.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { JOB_COLUMNS } from '../rows.js'
import * as jobs from './jobs.js'
import { nowParam, NOW_MS, parseJsonText, sqliteRowToJob } from './sql.js'

const AUDIT_COLUMNS = 'id, at, action, job_id, actor, changes'

/** Inserts audit rows in one statement (the caller's transaction, or on its own). */
export async function insertAudit (db: SqlExecutor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  await db.query(
    `INSERT INTO scheduler_audit (at, action, job_id, actor, changes)
     SELECT coalesce(value ->> 0, ${NOW_MS}), value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1)`,
    [JSON.stringify(entries.map((entry) => [entry.at === undefined || entry.at === null ? null : entry.at.getTime(), entry.action, entry.jobId, entry.actor, entry.changesJson]))]
  )
}

/** {@link insertAudit} inside transaction `tx`, under a savepoint: a failure is reported, and the transaction goes on. */
async function insertAuditInTransaction (tx: SqlExecutor, context: AuditContext, entries: AuditEntry[]): Promise<void> {
  await tx.query('SAVEPOINT audit_row')
  try {
    await insertAudit(tx, entries)
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT audit_row')
    await tx.query('RELEASE SAVEPOINT audit_row')
    reportAuditFailure(context, error)
    return
  }
  await tx.query('RELEASE SAVEPOINT audit_row')
}

function entryOf (context: AuditContext, action: AuditAction, before: JobRecord | null, after: JobRecord | null): AuditEntry {
  const id = after?.id ?? before?.id ?? ''
  return auditEntry({ ...context, action }, id, jobChanges(before, after))
}

export async function addJob (db: SqlClient, job: NewJobRecord, options: { replaceExisting?: boolean }, audit: AuditContext): Promise<JobRecord> {
  return db.transaction(async (tx) => {
    const before = options.replaceExisting === true ? await jobs.getJob(tx, job.id) : null
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
    const before = await jobs.getJob(tx, id)
    const after = await jobs.updateJob(tx, id, patch, options)
    await insertAuditInTransaction(tx, audit, [entryOf(audit, audit.action, before, after)])
    return after
  })
}

export async function removeJob (db: SqlClient, id: string, audit: AuditContext): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query(`DELETE FROM scheduler_job WHERE id = ?1 RETURNING ${JOB_COLUMNS}`, [id])
    if (row === undefined) return false
    await insertAuditInTransaction(tx, audit, [entryOf(audit, audit.action, sqliteRowToJob(row), null)])
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
     ORDER BY at DESC, id DESC LIMIT coalesce(?${where.values.length + 1}, -1) OFFSET ?${where.values.length + 2}`,
    [...where.values, filter.limit ?? null, filter.offset ?? 0]
  )
  return rows.map((row) => ({
    id: Number(row.id),
    at: toDate(row.at),
    action: row.action,
    jobId: row.job_id,
    actor: row.actor,
    changes: parseJsonText(row.changes) as AuditRecord['changes']
  }))
}

export async function countAudit (db: SqlExecutor, filter: AuditFilter = {}): Promise<number> {
  const where = auditWhere(filter)
  const [row] = await db.query<{ count: number }>(`SELECT count(*) AS count FROM scheduler_audit WHERE ${where.sql}`, where.values)
  return Number(row?.count ?? 0)
}

export async function deleteOldAudit (db: SqlExecutor, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const rows = await db.query(`DELETE FROM scheduler_audit WHERE at < ${nowParam(2)} - ?1 * 1000 RETURNING 1`, [maxAgeSeconds, now])
  return rows.length
}

/** The WHERE clause of an audit filter, with its values as ?1.. */
function auditWhere (filter: AuditFilter): { sql: string, values: unknown[] } {
  return {
    sql: `(?1 IS NULL OR job_id = ?1) AND (?2 IS NULL OR actor = ?2)
      AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at <= ?4)`,
    values: [filter.jobId ?? null, filter.actor ?? null, filter.from ?? null, filter.to ?? null]
  }
}
