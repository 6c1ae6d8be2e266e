/**
 * Installs the scheduler's tables at start: one transaction, serialised across processes with
 * `pg_advisory_xact_lock` (PostgreSQL docs, "Advisory Locks"), idempotent. Never
 * `orm.schema.update()`: on the host's database that drops tables it does not know.
 */
import type { SqlClient, SqlExecutor } from '../sql/sql-client.js'
import { SCHEMA_LOCK_KEY } from './ddl.js'
import { quoteIdentifier } from './placement.js'
import { SCHEMA_VERSIONS } from './versions.js'

/** Every object the DDL makes, by name, each found on its own table (placed in the schema by `placedSqlClient`). */
const COMPLETE_PROBE = `SELECT (
    to_regclass('scheduler_job') IS NOT NULL AND to_regclass('scheduler_job_execution') IS NOT NULL AND to_regclass('scheduler_leader') IS NOT NULL
    AND to_regclass('scheduler_node') IS NOT NULL AND to_regclass('scheduler_audit') IS NOT NULL
    AND (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('scheduler_audit')
         AND c.relname IN ('scheduler_audit_job_id_at_idx', 'scheduler_audit_at_idx')) = 2
    AND (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job') AND NOT attisdropped
         AND attname IN ('next_fire_time', 'capture_logs', 'retry', 'recover')) = 4
    AND (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job_execution') AND NOT attisdropped
         AND attname IN ('late_status', 'late_finished_at', 'late_exception', 'result', 'logs', 'attempt', 'next_attempt_at', 'start_after', 'task')) = 9
    AND (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('scheduler_job')
         AND c.relname IN ('scheduler_job_next_run_time_idx')) = 1
    AND (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('scheduler_job_execution')
         AND c.relname IN ('scheduler_job_execution_status_run_time_idx', 'scheduler_job_execution_running_idx', 'scheduler_job_execution_queued_idx')) = 3
    AND (SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job')
         AND conname IN ('scheduler_job_args_is_array', 'scheduler_job_max_instances_positive')) = 2
    AND (SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job_execution')
         AND conname IN ('scheduler_job_execution_occurrence_key')) = 1
    AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job_execution')
         AND conname = 'scheduler_job_execution_job_id_run_time_key')
  ) AS complete`

/** PostgreSQL deadlock_detected and serialization_failure: the install is retried. */
const RETRIED_CODES = new Set(['40P01', '40001'])
const INSTALL_ATTEMPTS = 3

/**
 * Creates the tables or brings them to the last schema version, running every version's idempotent
 * `up` in order. With `schema`, creates the schema when missing; `sql` must place statements in it
 * (`placedSqlClient`).
 *
 * When every object is already in place (the usual start of a process joining a running cluster,
 * checked by read-only catalog queries), it runs no DDL at all: even as a no-op, `ALTER TABLE … ADD
 * COLUMN IF NOT EXISTS` and `CREATE INDEX IF NOT EXISTS` take their table locks first (ACCESS
 * EXCLUSIVE, SHARE), which stalls every claim of the cluster and, against a claim holding the other
 * table, deadlocks (the soak saw a process fail to start with 40P01). A deadlock or serialization
 * failure during a real install is retried, up to three attempts.
 */
export async function installSchema (sql: SqlClient, schema: string | null = null): Promise<void> {
  if (await schemaComplete(sql)) return
  for (let attempt = 1; ; attempt++) {
    try {
      await sql.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY])
        // Another process may have installed everything while this one waited for the lock: then
        // no DDL at all, not even no-op DDL, whose table locks deadlock with that process's first
        // statements (its reaper, seen in CI as 40P01 at start).
        if (await completeInTransaction(tx)) return
        if (schema !== null) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
        for (const version of SCHEMA_VERSIONS) for (const statement of version.up) await tx.query(statement)
      })
      return
    } catch (error) {
      if (attempt >= INSTALL_ATTEMPTS || !RETRIED_CODES.has(String((error as { code?: unknown }).code))) throw error
    }
  }
}

/** {@link schemaComplete} inside the install transaction, under a savepoint (a failed probe must not abort it). */
async function completeInTransaction (tx: SqlExecutor): Promise<boolean> {
  await tx.query('SAVEPOINT install_probe')
  const complete = await schemaComplete(tx)
  await tx.query('ROLLBACK TO SAVEPOINT install_probe')
  return complete
}

/** Whether every schema version is applied and every object of the DDL is in place. */
async function schemaComplete (sql: SqlExecutor): Promise<boolean> {
  try {
    for (const version of SCHEMA_VERSIONS) {
      const [row] = await sql.query<{ applied: boolean }>(version.probe)
      if (row?.applied !== true) return false
    }
    const [row] = await sql.query<{ complete: boolean }>(COMPLETE_PROBE)
    return row?.complete === true
  } catch {
    return false
  }
}
