/**
 * The `scheduler_job` statements of the SQLite job store: the same functions and guarantees as
 * `postgresql/jobs.ts`, in SQLite's SQL (`?n` placeholders, json as text, booleans 0/1, times in
 * epoch milliseconds: see sql.ts). Many rows go in as one JSON array read with `json_each`.
 */
import { ConflictingIdError, JobNotFoundError, VersionMismatchError } from '../../errors.js'
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js'
import type { JobFilter, JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { JOB_COLUMNS, withFireTime } from '../rows.js'
import { NOW_MS, sqliteRowToJob } from './sql.js'

const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  name: 'name',
  task: 'task',
  args: 'args',
  trigger: 'trigger',
  nextRunTime: 'next_run_time',
  nextFireTime: 'next_fire_time',
  paused: 'paused',
  misfireGraceTime: 'misfire_grace_time',
  coalesce: 'coalesce',
  maxInstances: 'max_instances',
  timeoutMs: 'timeout_ms',
  captureLogs: 'capture_logs',
  retry: 'retry',
  recover: 'recover',
  lastError: 'last_error'
}

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
    jobValues(job)
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
    [JSON.stringify(jobs.map((job) => jobValues(job).map(jsonCell)))]
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

export async function getJobs (db: SqlClient, filter: JobFilter = {}): Promise<JobRecord[]> {
  const where = jobWhere(filter)
  const rows = await db.query(
    `SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE ${where.sql} ORDER BY id LIMIT coalesce(?${where.values.length + 1}, -1) OFFSET ?${where.values.length + 2}`,
    [...where.values, filter.limit ?? null, filter.offset ?? 0]
  )
  return rows.map(sqliteRowToJob)
}

export async function countJobs (db: SqlClient, filter: JobFilter = {}): Promise<number> {
  const where = jobWhere(filter)
  const [row] = await db.query<{ count: number }>(`SELECT count(*) AS count FROM scheduler_job WHERE ${where.sql}`, where.values)
  return Number(row?.count ?? 0)
}

export async function updateJob (db: SqlExecutor, id: string, changes: JobPatch, options: { expectedVersion?: number } = {}): Promise<JobRecord> {
  const patch = withFireTime(changes)
  const sets: string[] = []
  const values: unknown[] = [id]
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof JobPatch, string]>) {
    if (!(key in patch)) continue
    const value = patch[key]
    // json columns take JSON text; a null retry policy is SQL NULL, not the JSON value null.
    values.push(key === 'args' || key === 'trigger' || (key === 'retry' && value !== null) ? JSON.stringify(value) : value)
    sets.push(`${column} = ?${values.length}`)
  }
  sets.push(`updated_at = ${NOW_MS}`, 'version = version + 1')
  values.push(options.expectedVersion ?? null)
  const [row] = await db.query(
    `UPDATE scheduler_job SET ${sets.join(', ')} WHERE id = ?1 AND (?${values.length} IS NULL OR version = ?${values.length})
     RETURNING ${JOB_COLUMNS}`,
    values
  )
  if (row !== undefined) return sqliteRowToJob(row)
  if (options.expectedVersion !== undefined && (await db.query('SELECT 1 FROM scheduler_job WHERE id = ?1', [id])).length > 0) {
    throw new VersionMismatchError(id, options.expectedVersion)
  }
  throw new JobNotFoundError(id)
}

export async function removeJob (db: SqlExecutor, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM scheduler_job WHERE id = ?1 RETURNING id', [id])
  return rows.length > 0
}

/**
 * The WHERE clause of a job filter, with its values as ?1..: the search is case-insensitive for
 * ASCII letters, as SQLite's LIKE is (SQLite docs, "The LIKE, GLOB, REGEXP, MATCH, and extract operators").
 */
function jobWhere (filter: JobFilter): { sql: string, values: unknown[] } {
  return {
    sql: `(?1 IS NULL OR task = ?1) AND (?2 IS NULL OR paused = ?2)
      AND (?3 IS NULL OR (last_error IS NOT NULL) = ?3)
      AND (?4 IS NULL OR id LIKE ?4 ESCAPE '\\' OR name LIKE ?4 ESCAPE '\\')`,
    values: [filter.task ?? null, filter.paused ?? null, filter.flagged ?? null, filter.search === undefined ? null : `%${escapeLike(filter.search)}%`]
  }
}

/** Escapes LIKE wildcards so a search for `50%_off` matches those characters. */
function escapeLike (text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

function jobValues (job: NewJobRecord): unknown[] {
  return [
    job.id, job.name, job.task, JSON.stringify(job.args), JSON.stringify(job.trigger), job.nextRunTime, job.paused,
    job.misfireGraceTime, job.coalesce, job.maxInstances, job.timeoutMs, job.lastError,
    job.nextFireTime === undefined ? job.nextRunTime : job.nextFireTime,
    job.captureLogs ?? true,
    job.retry === undefined || job.retry === null ? null : JSON.stringify(job.retry),
    job.recover ?? false
  ]
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
