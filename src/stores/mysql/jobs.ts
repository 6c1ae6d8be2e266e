/**
 * The `scheduler_job` statements of the MySQL/MariaDB job store: add, read, list, patch, remove,
 * with the signatures and guarantees of `postgresql/jobs.ts`. MySQL has no `RETURNING` on INSERT
 * or UPDATE: a write and the read of its row run in one transaction (the row locked by the write).
 */
import { ConflictingIdError } from '../../errors.js'
import { atomically, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import type { JobPatch, JobRecord, NewJobRecord } from '../job-store.js'
import { jobQueries } from '../job-queries.js'
import { newJobValues, rowToJob } from '../rows.js'
import { affectedRows, isDuplicateKey, list, MYSQL_JOB_COLUMNS, MYSQL_SQL, placeholders } from './sql.js'

const INSERT_COLUMNS = 'id, name, task, args, `trigger`, next_run_time, paused, misfire_grace_time, `coalesce`, max_instances, timeout_ms, last_error, next_fire_time, capture_logs, retry, recover, created_at, updated_at'
/** One row of {@link INSERT_COLUMNS}: the 16 values of `newJobValues`, then the clock for both times. */
const INSERT_ROW = `${placeholders(16).slice(0, -1)}, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`

/**
 * `replaceExisting`: `ON DUPLICATE KEY UPDATE … = VALUES(…)`. `VALUES()` is deprecated in MySQL
 * 8.0.20+ (it still works, with a warning) but is the one form MariaDB also accepts (MySQL's row
 * alias `AS new` is not MariaDB syntax).
 */
const REPLACE = `ON DUPLICATE KEY UPDATE name = VALUES(name), task = VALUES(task), args = VALUES(args),
  \`trigger\` = VALUES(\`trigger\`), next_run_time = VALUES(next_run_time), next_fire_time = VALUES(next_fire_time), paused = VALUES(paused),
  misfire_grace_time = VALUES(misfire_grace_time), \`coalesce\` = VALUES(\`coalesce\`), max_instances = VALUES(max_instances),
  timeout_ms = VALUES(timeout_ms), last_error = VALUES(last_error), capture_logs = VALUES(capture_logs), retry = VALUES(retry),
  recover = VALUES(recover), updated_at = VALUES(updated_at), version = version + 1`

export async function addJob (db: SqlExecutor, job: NewJobRecord, options: { replaceExisting?: boolean } = {}): Promise<JobRecord> {
  return atomically(db, async (tx) => {
    try {
      await tx.query(`INSERT INTO scheduler_job (${INSERT_COLUMNS}) VALUES ${INSERT_ROW} ${options.replaceExisting === true ? REPLACE : ''}`, newJobValues(job))
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConflictingIdError(job.id)
      throw error
    }
    return await getJob(tx, job.id) as JobRecord
  })
}

export async function addJobs (db: SqlClient, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  if (jobs.length === 0) return []
  return db.transaction(async (tx) => insertJobs(tx, jobs))
}

/** Inserts many jobs in one statement, in the caller's transaction. @throws ConflictingIdError for the first id that exists or repeats. */
export async function insertJobs (tx: SqlExecutor, jobs: NewJobRecord[]): Promise<JobRecord[]> {
  try {
    await tx.query(`INSERT INTO scheduler_job (${INSERT_COLUMNS}) VALUES ${jobs.map(() => INSERT_ROW).join(', ')}`, jobs.flatMap(newJobValues))
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
    // The statement inserted nothing (InnoDB rolls a failed statement back): the refused id is
    // the first one that exists already or repeats one before it in the batch.
    const existing = new Set((await tx.query<{ id: string }>('SELECT id FROM scheduler_job WHERE id IN (?)', [list(jobs.map((job) => job.id))])).map((row) => row.id))
    const seen = new Set<string>()
    const refused = jobs.find((job) => {
      const conflict = existing.has(job.id) || seen.has(job.id)
      seen.add(job.id)
      return conflict
    })
    throw new ConflictingIdError(refused?.id ?? '?')
  }
  const rows = await tx.query(`SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job WHERE id IN (?)`, [jobs.map((job) => job.id)])
  const byId = new Map(rows.map((row) => [row.id as string, rowToJob(row)]))
  return jobs.map((job) => byId.get(job.id) as JobRecord)
}

export async function getJob (db: SqlExecutor, id: string): Promise<JobRecord | null> {
  const [row] = await db.query(`SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job WHERE id = ?`, [id])
  return row === undefined ? null : rowToJob(row)
}

export async function removeJob (db: SqlExecutor, id: string): Promise<boolean> {
  return affectedRows(await db.query('DELETE FROM scheduler_job WHERE id = ?', [id])) > 0
}

/** Jobs written without the scheduler: `next_run_time` null, not paused, not flagged, never run (as `postgresql/jobs.ts`). */
export async function getUnscheduledJobs (db: SqlExecutor, limit: number): Promise<JobRecord[]> {
  const rows = await db.query(
    `SELECT ${MYSQL_JOB_COLUMNS.split(', ').map((column) => `j.${column}`).join(', ')} FROM scheduler_job j
     WHERE j.next_run_time IS NULL AND j.paused = FALSE AND j.last_error IS NULL
       AND NOT EXISTS (SELECT 1 FROM scheduler_job_execution e WHERE e.job_id = j.id)
     ORDER BY j.created_at, j.id LIMIT ?`,
    [limit]
  )
  return rows.map(rowToJob)
}

/** Sets the next occurrence (or the flag) of an unscheduled job, only if no one wrote it since it was read. */
export async function scheduleUnscheduledJob (db: SqlClient, id: string, version: number, patch: Pick<JobPatch, 'nextRunTime' | 'nextFireTime' | 'lastError'>): Promise<boolean> {
  return affectedRows(await db.query(
    `UPDATE scheduler_job SET next_run_time = ?, next_fire_time = ?, last_error = ?, updated_at = UTC_TIMESTAMP(3), version = version + 1
     WHERE id = ? AND version = ? AND next_run_time IS NULL`,
    [patch.nextRunTime ?? null, patch.nextFireTime ?? null, patch.lastError ?? null, id, version]
  )) > 0
}

/** The job list, its count and the update from a patch: built once for every dialect (`../job-queries.ts`). */
export const { getJobs, countJobs, updateJob } = jobQueries(MYSQL_SQL)
