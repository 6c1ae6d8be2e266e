/**
 * The `scheduler_job` statements of the SQLite job store: the same functions and guarantees as
 * `postgresql/jobs.ts`, in SQLite's SQL (`?n` placeholders, json as text, booleans 0/1, times in
 * epoch milliseconds: see sql.ts). Many rows go in as one JSON array read with `json_each`.
 */
import { ConflictingIdError } from '../../errors.js'
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js'
import type { JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { jobQueries } from '../job-queries.js'
import { JOB_COLUMNS, newJobValues } from '../rows.js'
import { NOW_MS, SQLITE_SQL, sqliteRowToJob } from './sql.js'

const INSERT_COLUMNS = 'id, name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, last_error, next_fire_time, capture_logs, retry, recover'

export async function addJob (db: SqlExecutor, job: NewJobRecord, options: { replaceExisting?: boolean } = {}): Promise<JobRecord> {
  const conflict = options.replaceExisting === true
    ? `ON CONFLICT (id) DO UPDATE SET name = excluded.name, task = excluded.task, args = excluded.args,
        trigger = excluded.trigger, next_run_time = excluded.next_run_time, next_fire_time = excluded.next_fire_time, paused = excluded.paused,
        misfire_grace_time = excluded.misfire_grace_time, coalesce = excluded.coalesce,
        max_instances = excluded.max_instances, timeout_ms = excluded.timeout_ms, last_error = excluded.last_error, capture_logs = excluded.capture_logs,
        retry = excluded.retry, recover = excluded.recover,
        updated_at = ${NOW_MS}, version = scheduler_job.version + 1`
    : 'ON CONFLICT (id) DO NOTHING'
  const rows = await db.query(
    `INSERT INTO scheduler_job (${INSERT_COLUMNS})
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ${conflict}
     RETURNING ${JOB_COLUMNS}`,
    newJobValues(job)
  )
  if (rows.length === 0) throw new ConflictingIdError(job.id)
  return sqliteRowToJob(rows[0] as Record<string, unknown>)
}

export async function addJobs (db: SqlClient, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  if (jobs.length === 0) return []
  return db.transaction(async (tx) => insertJobs(tx, jobs))
}

/** Inserts many jobs in one statement, in the caller's transaction. @throws ConflictingIdError for the first id that exists or repeats. */
export async function insertJobs (tx: SqlExecutor, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  const columns = INSERT_COLUMNS.split(', ')
  // `WHERE true` keeps SQLite from reading `ON CONFLICT` as the SELECT's join constraint (SQLite docs, "UPSERT", parsing ambiguity).
  const rows = await tx.query(
    `INSERT INTO scheduler_job (${INSERT_COLUMNS})
     SELECT ${columns.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?1) WHERE true
     ON CONFLICT (id) DO NOTHING
     RETURNING ${JOB_COLUMNS}`,
    [JSON.stringify(jobs.map((job) => newJobValues(job).map(jsonCell)))]
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
  // RETURNING order is not specified by SQLite: give the rows back in the batch's order.
  const byId = new Map(rows.map((row) => [(row as { id: string }).id, row as Record<string, unknown>]))
  return jobs.map((job) => sqliteRowToJob(byId.get(job.id) as Record<string, unknown>))
}

export async function getJob (db: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await db.query(`SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = ?1`, [id])
  return row === undefined ? null : sqliteRowToJob(row)
}

export async function removeJob (db: SqlExecutor, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM scheduler_job WHERE id = ?1 RETURNING id', [id])
  return rows.length > 0
}

/** A value as a cell of the JSON batch `insertJobs` reads with `->>`: dates in ms, booleans 0/1. */
export function jsonCell (value: unknown): unknown {
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'boolean') return value ? 1 : 0
  return value ?? null
}

/** Jobs written without the scheduler (see `postgresql/jobs.ts`). */
export async function getUnscheduledJobs (db: SqlExecutor, limit: number): Promise<JobRecord[]> {
  const rows = await db.query(
    `SELECT ${JOB_COLUMNS} FROM scheduler_job j
     WHERE j.next_run_time IS NULL AND NOT j.paused AND j.last_error IS NULL
       AND NOT EXISTS (SELECT 1 FROM scheduler_job_execution e WHERE e.job_id = j.id)
     ORDER BY j.created_at, j.id LIMIT ?1`,
    [limit]
  )
  return rows.map(sqliteRowToJob)
}

/** Sets the next occurrence of an unscheduled job if its version is unchanged (see `postgresql/jobs.ts`). */
export async function scheduleUnscheduledJob (db: SqlClient, id: string, version: number, patch: Pick<JobPatch, 'nextRunTime' | 'nextFireTime' | 'lastError'>): Promise<boolean> {
  const rows = await db.query(
    `UPDATE scheduler_job SET next_run_time = ?3, next_fire_time = ?4, last_error = ?5, updated_at = ${NOW_MS}, version = version + 1
     WHERE id = ?1 AND version = ?2 AND next_run_time IS NULL RETURNING id`,
    [id, version, patch.nextRunTime ?? null, patch.nextFireTime ?? null, patch.lastError ?? null]
  )
  return rows.length > 0
}

/** The job list, its count and the update from a patch: built once for every dialect (`../job-queries.ts`). */
export const { getJobs, countJobs, updateJob } = jobQueries(SQLITE_SQL)
