/**
 * The `scheduler_job_execution` statements of the SQLite job store: outcomes, leases, reaping,
 * history queries and retention, with the guarantees of `postgresql/executions.ts`. Where
 * PostgreSQL writes an outcome batch (or a reaping) in one statement of data-modifying CTEs, which
 * SQLite lacks, the same writes run as several statements in one transaction (`atomically`), in an
 * order that keeps PostgreSQL's single-snapshot meaning: late outcomes (rows abandoned before this
 * call) are written before running rows take their outcome, so the two sets stay disjoint.
 *
 * A batch (`json_each`) joined to the table is looked up by the table's key: the status terms are
 * written `+e.status`, which keeps SQLite from driving the join by the status index (SQLite docs,
 * "The SQLite Query Optimizer Overview", disqualifying terms with unary `+`), which scanned every
 * abandoned or queued row once per batch element.
 */
import { atomically, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { SQLITE_NOTIFY } from '../../sql/sqlite-client.js'
import { SUPERSEDED_BY_LATE_SUCCESS, type ExecutionOutcome, type ExecutionRecord, type RecentExecutionStats } from '../job-store.js'
import { historyQueries } from '../history-queries.js'
import { recentStats } from '../recent-stats.js'
import { QUEUED_PAYLOAD, WAKEUP_CHANNEL } from '../wakeup.js'
import { EXECUTION_COLUMNS } from '../rows.js'
import { nowParam, SQLITE_SQL, sqliteRowToExecution } from './sql.js'

/** Outcomes after which the occurrence may get another attempt (`ExecutionOutcome.retryDelayMs`). */
const RETRIED_STATUSES = "'error', 'timeout', 'abandoned'"

/** The task of the next attempt of the execution row `alias`: its job's now, else (the job is gone) its own. */
const TASK_OF = (alias: string): string => `coalesce((SELECT j.task FROM scheduler_job j WHERE j.id = ${alias}.job_id), ${alias}.task)`

/**
 * The outcome batch as a CTE `u` (?1: a JSON array of [id, status, exception, traceback,
 * duration_ms, result, logs, retry_delay_ms, waited_ms]; ?2: now or null): each row ends at `at`,
 * the write's time less how long its outcome waited to be written, in whole milliseconds.
 */
const OUTCOMES = `u AS (
  SELECT value ->> 0 AS id, value ->> 1 AS status, value ->> 2 AS exception, value ->> 3 AS traceback,
         value ->> 4 AS duration_ms, value ->> 5 AS result, value ->> 6 AS logs, value ->> 7 AS retry_delay_ms,
         CAST(round(${nowParam(2)} - max(coalesce(value ->> 8, 0), 0)) AS INTEGER) AS at
  FROM json_each(?1))`

export async function finishExecutions (db: SqlExecutor, outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
  if (outcomes.length === 0) return []
  const batch = JSON.stringify(outcomes.map(({ id, outcome }) => [
    id, outcome.status, outcome.exception ?? null, outcome.traceback ?? null, outcome.durationMs ?? null,
    outcome.resultJson ?? null, outcome.logsJson ?? null, outcome.retryDelayMs ?? null, outcome.waitedMs ?? null
  ]))
  const rows = await atomically(db, async (tx) => {
    // Abandoned rows (their lease expired while the handler ran) keep their status and record the late outcome.
    const late = await tx.query(
      `WITH ${OUTCOMES}
       UPDATE scheduler_job_execution AS e SET late_status = u.status, late_finished_at = u.at, late_exception = u.exception
       FROM u WHERE e.id = u.id AND +e.status = 'abandoned' AND e.late_status IS NULL
       RETURNING ${EXECUTION_COLUMNS}`,
      [batch, now]
    )
    // A late success supersedes the queued retry its abandonment made.
    const succeeded = late.filter((row) => row.late_status === 'success')
    if (succeeded.length > 0) {
      await tx.query(
        `UPDATE scheduler_job_execution AS n SET status = 'abandoned', finished_at = l.value ->> 3, exception = ?2
         FROM json_each(?1) AS l
         WHERE n.job_id = l.value ->> 0 AND n.run_time = l.value ->> 1 AND n.attempt = (l.value ->> 2) + 1 AND +n.status = 'queued'`,
        [JSON.stringify(succeeded.map((row) => [row.job_id, row.run_time, row.attempt, row.late_finished_at])), SUPERSEDED_BY_LATE_SUCCESS]
      )
    }
    const finished = await tx.query(
      `WITH ${OUTCOMES}
       UPDATE scheduler_job_execution AS e
       SET status = u.status, finished_at = u.at, lease_until = NULL, exception = u.exception, traceback = u.traceback,
           duration_ms = u.duration_ms, result = u.result, logs = u.logs,
           started_at = CASE WHEN u.duration_ms IS NULL THEN e.started_at ELSE CAST(round(u.at - u.duration_ms) AS INTEGER) END,
           next_attempt_at = CASE WHEN u.status IN (${RETRIED_STATUSES}) AND u.retry_delay_ms IS NOT NULL
                                  THEN CAST(round(u.at + u.retry_delay_ms) AS INTEGER) END
       FROM u WHERE e.id = u.id AND +e.status = 'running'
       RETURNING ${EXECUTION_COLUMNS}`,
      [batch, now]
    )
    // The retry exists if and only if the outcome was written: same transaction.
    const retried = finished.filter((row) => row.next_attempt_at !== null).map((row) => Number(row.id))
    if (retried.length > 0) {
      await tx.query(
        `INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status, start_after, task)
         SELECT f.job_id, f.run_time, f.attempt + 1, 'queued', f.next_attempt_at, ${TASK_OF('f')}
         FROM scheduler_job_execution f WHERE f.id IN (SELECT value FROM json_each(?1))
         ON CONFLICT (job_id, run_time, attempt) DO NOTHING`,
        [retried]
      )
    }
    // A finished run frees an instance slot: wake idle workers (at commit) when its job has queued runs.
    if (finished.length > 0) {
      const [waiting] = await tx.query(
        `SELECT 1 AS queued FROM scheduler_job_execution q
         WHERE q.status = 'queued' AND q.job_id IN (SELECT value FROM json_each(?1)) LIMIT 1`,
        [[...new Set(finished.map((row) => row.job_id as string))]]
      )
      if (waiting !== undefined) await tx.query(SQLITE_NOTIFY, [WAKEUP_CHANNEL, QUEUED_PAYLOAD])
    }
    return [...finished, ...late]
  })
  const byId = new Map(rows.map((row) => { const execution = sqliteRowToExecution(row); return [execution.id, execution] }))
  return outcomes.map(({ id }) => byId.get(id) ?? null)
}

export async function extendLeases (db: SqlExecutor, owner: string, ids: number[], leaseMs: number, now: Date | null): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.query<{ id: unknown }>(
    `UPDATE scheduler_job_execution SET lease_until = ${nowParam(4)} + ?3
     WHERE id IN (SELECT value FROM json_each(?1)) AND owner = ?2 AND status = 'running' AND lease_until >= ${nowParam(4)} RETURNING id`,
    [ids, owner, Math.round(leaseMs), now]
  )
  return rows.map((row) => Number(row.id)).sort((a, b) => a - b)
}

/**
 * Reaps running executions past their lease, with crash recovery (see `postgresql/executions.ts`):
 * two statements in one transaction.
 */
export async function abandonExpiredExecutions (db: SqlExecutor, reason: string, now: Date | null): Promise<ExecutionRecord[]> {
  const rows = await atomically(db, async (tx) => {
    const reaped = await tx.query(
      `UPDATE scheduler_job_execution AS e
       SET status = 'abandoned', finished_at = ${nowParam(2)}, lease_until = NULL, exception = ?1,
           next_attempt_at = CASE WHEN EXISTS (
             SELECT 1 FROM scheduler_job j
             WHERE j.id = e.job_id AND j.recover AND e.attempt < coalesce(CAST(j.retry ->> '$.attempts' AS INTEGER), 1)) THEN ${nowParam(2)} END
       WHERE e.status = 'running' AND e.lease_until < ${nowParam(2)}
       RETURNING ${EXECUTION_COLUMNS}`,
      [reason, now]
    )
    const recovered = reaped.filter((row) => row.next_attempt_at !== null).map((row) => Number(row.id))
    if (recovered.length > 0) {
      await tx.query(
        `INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status, start_after, task)
         SELECT r.job_id, r.run_time, r.attempt + 1, 'queued', r.next_attempt_at, ${TASK_OF('r')}
         FROM scheduler_job_execution r WHERE r.id IN (SELECT value FROM json_each(?1))
         ON CONFLICT (job_id, run_time, attempt) DO NOTHING`,
        [recovered]
      )
    }
    return reaped
  })
  return rows.map(sqliteRowToExecution).sort((a, b) => a.id - b.id)
}

export async function getRecentExecutionStats (db: SqlClient, jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
  const rows = jobIds.length === 0
    ? []
    : await db.query(
      `SELECT ${EXECUTION_COLUMNS} FROM (
         SELECT *, row_number() OVER (PARTITION BY job_id ORDER BY run_time DESC, id DESC) AS position
         FROM scheduler_job_execution WHERE job_id IN (SELECT value FROM json_each(?1)))
       WHERE position <= ?2 ORDER BY job_id, run_time DESC, id DESC`,
      [jobIds, recent]
    )
  return recentStats(jobIds, rows.map(sqliteRowToExecution))
}

export async function deleteOldExecutions (db: SqlClient, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const rows = await db.query(
    `DELETE FROM scheduler_job_execution
     WHERE status NOT IN ('queued', 'running') AND run_time < ${nowParam(2)} - ?1 * 1000 RETURNING id`,
    [maxAgeSeconds, now]
  )
  return rows.length
}

/** One execution, the execution list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getExecution, getExecutions, countExecutions } = historyQueries(SQLITE_SQL)
