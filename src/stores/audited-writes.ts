/**
 * The audited job writes of the SQL job stores, shared by every dialect (postgresql/, mysql/,
 * sqlite/ `audit.ts`): each write is one transaction holding the job change and its audit row.
 * The row is inserted under a savepoint (`SAVEPOINT`, which PostgreSQL, MySQL/MariaDB and SQLite
 * all have): when it fails (the table dropped, a privilege missing) the savepoint is rolled back,
 * the failure goes to the context's `onError`, and the job change still commits. An audit row
 * therefore exists exactly when its change committed, unless writing the row itself failed, which
 * is reported.
 */
import type { SqlClient, SqlExecutor } from '../sql/sql-client.js'
import { auditEntry, jobChanges, reportAuditFailure, type AuditAction, type AuditContext, type AuditEntry } from './audit.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from './job-store.js'

/** What a dialect gives: its statements for the audit rows and the job table. */
export interface AuditedWriteStatements {
  /** Inserts audit rows in one statement. */
  insertAudit: (tx: SqlExecutor, entries: AuditEntry[]) => Promise<void>
  /** The job before a change, locked against other writers where the database has row locks. */
  lockedJob: (tx: SqlExecutor, id: string) => Promise<JobRecord | null>
  /** Deletes the job; answers the row deleted, or null when there was none. */
  deleteJob: (tx: SqlExecutor, id: string) => Promise<JobRecord | null>
  addJob: (tx: SqlExecutor, job: NewJobRecord, options: { replaceExisting?: boolean }) => Promise<JobRecord>
  insertJobs: (tx: SqlExecutor, jobs: NewJobRecord[]) => Promise<JobRecord[]>
  updateJob: (tx: SqlExecutor, id: string, patch: JobPatch, options: { expectedVersion?: number }) => Promise<JobRecord>
}

/** The audited writes over a dialect's statements (the `JobStore` methods with an `audit` context). */
export function auditedWrites (statements: AuditedWriteStatements): {
  addJob: (db: SqlClient, job: NewJobRecord, options: { replaceExisting?: boolean }, audit: AuditContext) => Promise<JobRecord>
  addJobs: (db: SqlClient, records: NewJobRecord[], audit: AuditContext) => Promise<JobRecord[]>
  updateJob: (db: SqlClient, id: string, patch: JobPatch, options: { expectedVersion?: number }, audit: AuditContext) => Promise<JobRecord>
  removeJob: (db: SqlClient, id: string, audit: AuditContext) => Promise<boolean>
  auditRun: (tx: SqlExecutor, audit: AuditContext | undefined, execution: ExecutionRecord | null) => Promise<void>
} {
  /** `insertAudit` inside transaction `tx`, under a savepoint: a failure is reported, and the transaction goes on. */
  const insertInTransaction = async (tx: SqlExecutor, context: AuditContext, entries: AuditEntry[]): Promise<void> => {
    // (Not named after the table: PostgreSQL's schema placement would qualify the name.)
    await tx.query('SAVEPOINT audit_row')
    try {
      await statements.insertAudit(tx, entries)
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT audit_row')
      await tx.query('RELEASE SAVEPOINT audit_row')
      reportAuditFailure(context, error)
      return
    }
    await tx.query('RELEASE SAVEPOINT audit_row')
  }
  /** The audit entry of one job's change, as `context` says, with the action given. */
  const entryOf = (context: AuditContext, action: AuditAction, before: JobRecord | null, after: JobRecord | null): AuditEntry =>
    auditEntry({ ...context, action }, after?.id ?? before?.id ?? '', jobChanges(before, after))

  return {
    // `replaceExisting` turns an add into a modification of the job it replaces.
    addJob: async (db, job, options, audit) => db.transaction(async (tx) => {
      const before = options.replaceExisting === true ? await statements.lockedJob(tx, job.id) : null
      const added = await statements.addJob(tx, job, options)
      await insertInTransaction(tx, audit, [entryOf(audit, before === null ? audit.action : 'modified', before, added)])
      return added
    }),
    addJobs: async (db, records, audit) => {
      if (records.length === 0) return []
      return db.transaction(async (tx) => {
        const added = await statements.insertJobs(tx, records)
        await insertInTransaction(tx, audit, added.map((job) => entryOf(audit, audit.action, null, job)))
        return added
      })
    },
    updateJob: async (db, id, patch, options, audit) => db.transaction(async (tx) => {
      const before = await statements.lockedJob(tx, id)
      const after = await statements.updateJob(tx, id, patch, options)
      await insertInTransaction(tx, audit, [entryOf(audit, audit.action, before, after)])
      return after
    }),
    removeJob: async (db, id, audit) => db.transaction(async (tx) => {
      const removed = await statements.deleteJob(tx, id)
      if (removed === null) return false
      await insertInTransaction(tx, audit, [entryOf(audit, audit.action, removed, null)])
      return true
    }),
    /** Writes the `run` audit row of a run-now, in the transaction `tx` that made its execution. */
    auditRun: async (tx, audit, execution) => {
      if (audit === undefined || execution === null) return
      await insertInTransaction(tx, audit, [auditEntry(audit, execution.jobId, { executionId: { before: null, after: execution.id } })])
    }
  }
}
