/**
 * The `scheduler_job` statements of the PostgreSQL (and PGlite) job store: add, read, list, patch,
 * remove. Every function takes the store's `SqlClient`; `MikroOrmJobStore` delegates to them.
 */
import { ConflictingIdError } from '../../errors.js'
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js'
import type { JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { jobQueries } from '../job-queries.js'
import { JOB_COLUMNS, newJobValues, rowToJob } from '../rows.js'
import { POSTGRESQL_SQL } from './sql.js'

export async function addJob (db: SqlExecutor, job: NewJobRecord, options: { replaceExisting?: boolean } = {}): Promise<JobRecord> {
  const conflict = options.replaceExisting === true
    ? `ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, task = EXCLUDED.task, args = EXCLUDED.args,
        trigger = EXCLUDED.trigger, next_run_time = EXCLUDED.next_run_time, next_fire_time = EXCLUDED.next_fire_time, paused = EXCLUDED.paused,
        misfire_grace_time = EXCLUDED.misfire_grace_time, coalesce = EXCLUDED.coalesce,
        max_instances = EXCLUDED.max_instances, timeout_ms = EXCLUDED.timeout_ms, last_error = EXCLUDED.last_error, capture_logs = EXCLUDED.capture_logs,
        retry = EXCLUDED.retry, recover = EXCLUDED.recover,
        updated_at = now(), version = scheduler_job.version + 1`
    : 'ON CONFLICT (id) DO NOTHING'
  const rows = await db.query(
    `INSERT INTO scheduler_job (id, name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, last_error, next_fire_time, capture_logs, retry, recover)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16) ${conflict}
     RETURNING ${JOB_COLUMNS}`,
    newJobValues(job)
  )
  if (rows.length === 0) throw new ConflictingIdError(job.id)
  return rowToJob(rows[0] as Record<string, unknown>)
}

export async function addJobs (db: SqlClient, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  if (jobs.length === 0) return []
  return db.transaction(async (tx) => insertJobs(tx, jobs))
}

/** Inserts many jobs in one statement, in the caller's transaction. @throws ConflictingIdError for the first id that exists or repeats. */
export async function insertJobs (tx: SqlExecutor, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  const columns = jobs.map(newJobValues)
  const column = (i: number): unknown[] => columns.map((values) => values[i])
  { // (one block, so the statement keeps the indentation it had inside addJobs' transaction)
    const rows = await tx.query(
      `INSERT INTO scheduler_job (id, name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, last_error, next_fire_time, capture_logs, retry, recover)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[], $7::boolean[],
                            $8::integer[], $9::boolean[], $10::integer[], $11::integer[], $12::text[], $13::timestamptz[], $14::boolean[], $15::jsonb[], $16::boolean[])
       ON CONFLICT (id) DO NOTHING
       RETURNING ${JOB_COLUMNS}`,
      Array.from({ length: 16 }, (_, i) => column(i))
    )
    if (rows.length !== jobs.length) {
      // Not inserted: the id existed. Seen before: the batch repeats it (ON CONFLICT skipped the repeat).
      const inserted = new Set(rows.map((row) => (row as { id: string }).id))
      const seen = new Set<string>()
      const existing = jobs.find((job) => {
        const refused = !inserted.has(job.id) || seen.has(job.id)
        seen.add(job.id)
        return refused
      })
      throw new ConflictingIdError(existing?.id ?? '?')
    }
    return rows.map((row) => rowToJob(row as Record<string, unknown>))
  }
}

export async function getJob (db: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await db.query(`SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = $1`, [id])
  return row === undefined ? null : rowToJob(row)
}

export async function removeJob (db: SqlExecutor, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM scheduler_job WHERE id = $1 RETURNING id', [id])
  return rows.length > 0
}

/**
 * Jobs written without the scheduler (a seed script or admin tool with the ORM but not the plugin,
 * or plain SQL): `next_run_time` null, not paused, not flagged, and never run (no execution row).
 */
export async function getUnscheduledJobs (db: SqlExecutor, limit: number): Promise<JobRecord[]> {
  const rows = await db.query(
    `SELECT ${JOB_COLUMNS} FROM scheduler_job j
     WHERE j.next_run_time IS NULL AND NOT j.paused AND j.last_error IS NULL
       AND NOT EXISTS (SELECT 1 FROM scheduler_job_execution e WHERE e.job_id = j.id)
     ORDER BY j.created_at, j.id LIMIT $1`,
    [limit]
  )
  return rows.map(rowToJob)
}

/**
 * Sets the next occurrence (or the flag) of a job found by {@link getUnscheduledJobs}, only if no
 * one wrote it since it was read (`version` compared, then bumped). Returns whether it was written.
 */
export async function scheduleUnscheduledJob (db: SqlClient, id: string, version: number, patch: Pick<JobPatch, 'nextRunTime' | 'nextFireTime' | 'lastError'>): Promise<boolean> {
  const rows = await db.query(
    `UPDATE scheduler_job SET next_run_time = $3, next_fire_time = $4, last_error = $5, updated_at = now(), version = version + 1
     WHERE id = $1 AND version = $2 AND next_run_time IS NULL RETURNING id`,
    [id, version, patch.nextRunTime ?? null, patch.nextFireTime ?? null, patch.lastError ?? null]
  )
  return rows.length > 0
}

/** The job list, its count and the update from a patch: built once for every dialect (`../job-queries.ts`). */
export const { getJobs, countJobs, updateJob } = jobQueries(POSTGRESQL_SQL)
