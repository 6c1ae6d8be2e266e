/**
 * The `scheduler_job_execution` statements of the PostgreSQL (and PGlite) job store: outcomes,
 * leases, reaping, history queries and retention.
 */
import { toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { SUPERSEDED_BY_LATE_SUCCESS, type ExecutionOutcome, type ExecutionRecord, type RecentExecutionStats } from '../job-store.js'
import { historyQueries } from '../history-queries.js'
import { recentStats } from '../recent-stats.js'
import { QUEUED_PAYLOAD, WAKEUP_CHANNEL } from '../wakeup.js'
import { EXECUTION_COLUMNS, EXECUTION_COLUMNS_OF_E, nowParam, rowToExecution } from '../rows.js'
import { POSTGRESQL_SQL } from './sql.js'

/**
 * The task of the next attempt of the execution `alias` (a CTE over updated rows): its job's now,
 * else (the job is gone) the attempt's own, read from the table (the CTE returns the record columns
 * only); a worker with it records the retry `abandoned`.
 */
const TASK_OF = (alias: string): string => `coalesce((SELECT j.task FROM scheduler_job j WHERE j.id = ${alias}.job_id), (SELECT x.task FROM scheduler_job_execution x WHERE x.id = ${alias}.id))`

/** Outcomes after which the occurrence may get another attempt (`ExecutionOutcome.retryDelayMs`). */
const RETRIED_STATUSES = "'error', 'timeout', 'abandoned'"

/**
 * The columns of a finished row read back when its claimed record is known (`FinishedOutcome.claimed`):
 * what the outcome's update computed (times, next attempt) and the owner; the rest are NULL here
 * and taken from the claimed record and the outcome ({@link finishedRecord}). In
 * `EXECUTION_COLUMNS` order, typed, so it unites with the late rows' full columns.
 */
const FINISHED_COMPUTED_COLUMNS = 'id, NULL::text AS job_id, NULL::timestamptz AS run_time, NULL::integer AS attempt, next_attempt_at, NULL::timestamptz AS start_after, status, started_at, finished_at, NULL::numeric AS duration_ms, NULL::text AS exception, NULL::text AS traceback, owner, lease_until, late_status, late_finished_at, late_exception'

type FinishedOutcome = { id: number, outcome: ExecutionOutcome, claimed?: ExecutionRecord }

export async function finishExecutions (db: SqlExecutor, outcomes: FinishedOutcome[], now: Date | null): Promise<Array<ExecutionRecord | null>> {
  if (outcomes.length === 0) return []
  // With every claimed record known, a finished row reads back only what the update computed.
  const computedOnly = outcomes.every((entry) => entry.claimed !== undefined)
  // One statement: running rows take the outcome; abandoned rows (their lease expired while the
  // handler ran) keep their status and record it as their late outcome. Disjoint rows, one snapshot.
  // A failed attempt with a retry delay gets `next_attempt_at`, and its successor is inserted (never
  // to start before the attempt's own `start_after`: a run claimed ahead, cut off before its time)
  // `queued` in the same statement: the retry exists if and only if the outcome was written.
  // Each row ends at `u.at`: the write's time less how long its outcome waited to be written.
  const rows = await db.query(
    `WITH u AS (
       SELECT u.*, ${nowParam(6)} - make_interval(secs => greatest(coalesce(u.waited_ms, 0), 0) / 1000.0) AS at
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::numeric[], $7::jsonb[], $8::jsonb[], $9::numeric[], $11::numeric[])
         AS u(id, status, exception, traceback, duration_ms, result, logs, retry_delay_ms, waited_ms)),
     finished AS (
       UPDATE scheduler_job_execution AS e
       SET status = u.status, finished_at = u.at, lease_until = NULL, exception = u.exception, traceback = u.traceback,
           duration_ms = u.duration_ms, result = u.result, logs = u.logs,
           started_at = CASE WHEN u.duration_ms IS NULL THEN e.started_at
                             ELSE u.at - make_interval(secs => u.duration_ms / 1000.0) END,
           next_attempt_at = CASE WHEN u.status IN (${RETRIED_STATUSES}) AND u.retry_delay_ms IS NOT NULL
                                  THEN u.at + make_interval(secs => u.retry_delay_ms / 1000.0) END
       FROM u WHERE e.id = u.id AND e.status = 'running'
       RETURNING ${EXECUTION_COLUMNS_OF_E}),
     retried AS (
       INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status, start_after, task)
       SELECT f.job_id, f.run_time, f.attempt + 1, 'queued', greatest(f.next_attempt_at, f.start_after), ${TASK_OF('f')} FROM finished f WHERE f.next_attempt_at IS NOT NULL
       ON CONFLICT (job_id, run_time, attempt) DO NOTHING),
     late AS (
       UPDATE scheduler_job_execution AS e
       SET late_status = u.status, late_finished_at = u.at, late_exception = u.exception
       FROM u WHERE e.id = u.id AND e.status = 'abandoned' AND e.late_status IS NULL
       RETURNING ${EXECUTION_COLUMNS_OF_E}),
     superseded AS (
       UPDATE scheduler_job_execution AS n SET status = 'abandoned', finished_at = l.late_finished_at, exception = $10
       FROM late l WHERE l.late_status = 'success' AND n.job_id = l.job_id AND n.run_time = l.run_time
         AND n.attempt = l.attempt + 1 AND n.status = 'queued'),
     -- A finished run frees an instance slot: wake idle workers (at commit) when its job has queued
     -- runs waiting for one. Referenced below only so that PostgreSQL evaluates it.
     notified AS (
       SELECT pg_notify($12, $13)
       WHERE EXISTS (SELECT 1 FROM scheduler_job_execution q JOIN finished f ON f.job_id = q.job_id WHERE q.status = 'queued'))
     SELECT ${computedOnly ? FINISHED_COMPUTED_COLUMNS : '*'} FROM finished WHERE (SELECT count(*) FROM notified) >= 0 UNION ALL SELECT * FROM late`,
    [
      outcomes.map(({ id }) => id),
      outcomes.map(({ outcome }) => outcome.status),
      outcomes.map(({ outcome }) => outcome.exception ?? null),
      outcomes.map(({ outcome }) => outcome.traceback ?? null),
      outcomes.map(({ outcome }) => outcome.durationMs ?? null),
      now,
      outcomes.map(({ outcome }) => outcome.resultJson ?? null),
      outcomes.map(({ outcome }) => outcome.logsJson ?? null),
      outcomes.map(({ outcome }) => outcome.retryDelayMs ?? null),
      SUPERSEDED_BY_LATE_SUCCESS,
      outcomes.map(({ outcome }) => outcome.waitedMs ?? null),
      WAKEUP_CHANNEL, QUEUED_PAYLOAD
    ]
  )
  const byId = new Map(rows.map((row) => [Number(row.id), row]))
  return outcomes.map(({ id, outcome, claimed }) => {
    const row = byId.get(id)
    if (row === undefined) return null
    // A late row (its status 'abandoned') comes back whole; a finished one, with computedOnly, not.
    return computedOnly && row.job_id === null && claimed !== undefined ? finishedRecord(row, outcome, claimed) : rowToExecution(row)
  })
}

/** The record of a finished row read back with {@link FINISHED_COMPUTED_COLUMNS}: its computed columns, the claimed record's fixed ones, the outcome's values as written. */
function finishedRecord (row: Record<string, any>, outcome: ExecutionOutcome, claimed: ExecutionRecord): ExecutionRecord {
  return {
    id: Number(row.id),
    jobId: claimed.jobId,
    runTime: new Date(claimed.runTime.getTime()),
    attempt: claimed.attempt,
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    startAfter: claimed.startAfter === null ? null : new Date(claimed.startAfter.getTime()),
    status: row.status as ExecutionRecord['status'],
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    durationMs: outcome.durationMs ?? null,
    exception: outcome.exception ?? null,
    traceback: outcome.traceback ?? null,
    owner: row.owner,
    leaseUntil: toDateOrNull(row.lease_until),
    lateStatus: (row.late_status ?? null) as ExecutionRecord['lateStatus'],
    lateFinishedAt: toDateOrNull(row.late_finished_at),
    lateException: row.late_exception ?? null
  }
}

/** `JobStore.requeueExecutions`: waiting runs claimed ahead go back to `queued`; NOTIFYs the workers at commit. */
export async function requeueExecutions (db: SqlExecutor, owner: string, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.query<{ id: unknown }>(
    `WITH requeued AS (
       UPDATE scheduler_job_execution SET status = 'queued', owner = NULL, started_at = NULL, lease_until = NULL
       WHERE id = ANY($1::bigint[]) AND owner = $2 AND status = 'running' AND start_after IS NOT NULL RETURNING id),
     notified AS (SELECT pg_notify($3, $4) WHERE EXISTS (SELECT 1 FROM requeued))
     SELECT id FROM requeued, (SELECT count(*) FROM notified) AS n`,
    [ids, owner, WAKEUP_CHANNEL, QUEUED_PAYLOAD]
  )
  return rows.map((row) => Number(row.id))
}

/** Renews leases from now, or from a run claimed ahead's `start_after` while it waits for it. */
export async function extendLeases (db: SqlExecutor, owner: string, ids: number[], leaseMs: number, now: Date | null): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.query<{ id: unknown }>(
    `UPDATE scheduler_job_execution SET lease_until = greatest(${nowParam(4)}, start_after) + make_interval(secs => $3 / 1000.0)
     WHERE id = ANY($1::bigint[]) AND owner = $2 AND status = 'running' AND lease_until >= ${nowParam(4)} RETURNING id`,
    [ids, owner, leaseMs, now]
  )
  return rows.map((row) => Number(row.id))
}

/**
 * Reaps running executions past their lease. Crash recovery in the same statement: of a job with
 * `recover` and attempts left (its `retry.attempts`), the reaped row gets `next_attempt_at` now and
 * the next attempt is inserted `queued`, due at once.
 */
export async function abandonExpiredExecutions (db: SqlExecutor, reason: string, now: Date | null): Promise<ExecutionRecord[]> {
  const rows = await db.query(
    `WITH reaped AS (
       UPDATE scheduler_job_execution AS e
       SET status = 'abandoned', finished_at = ${nowParam(2)}, lease_until = NULL, exception = $1,
           next_attempt_at = CASE WHEN EXISTS (
             SELECT 1 FROM scheduler_job j
             WHERE j.id = e.job_id AND j.recover AND e.attempt < coalesce((j.retry ->> 'attempts')::integer, 1)) THEN ${nowParam(2)} END
       WHERE e.status = 'running' AND e.lease_until < ${nowParam(2)}
       RETURNING ${EXECUTION_COLUMNS_OF_E}),
     recovered AS (
       INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status, start_after, task)
       SELECT r.job_id, r.run_time, r.attempt + 1, 'queued', greatest(r.next_attempt_at, r.start_after), ${TASK_OF('r')} FROM reaped r WHERE r.next_attempt_at IS NOT NULL
       ON CONFLICT (job_id, run_time, attempt) DO NOTHING)
     SELECT * FROM reaped`,
    [reason, now]
  )
  return rows.map(rowToExecution)
}

export async function getRecentExecutionStats (db: SqlClient, jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
  const rows = jobIds.length === 0
    ? []
    : await db.query(
      `SELECT r.* FROM unnest($1::text[]) AS j(id)
       CROSS JOIN LATERAL (
         SELECT ${EXECUTION_COLUMNS} FROM scheduler_job_execution e
         WHERE e.job_id = j.id ORDER BY run_time DESC, id DESC LIMIT $2) AS r`,
      [jobIds, recent]
    )
  return recentStats(jobIds, rows.map(rowToExecution))
}

/** Deletes finished executions older than `maxAgeSeconds`; counted in SQL, so a day of history is not sent back id by id. */
export async function deleteOldExecutions (db: SqlClient, maxAgeSeconds: number, now: Date | null): Promise<number> {
  const [row] = await db.query<{ deleted: unknown }>(
    `WITH deleted AS (
       DELETE FROM scheduler_job_execution
       WHERE status NOT IN ('queued', 'running') AND run_time < ${nowParam(2)} - make_interval(secs => $1) RETURNING 1)
     SELECT count(*) AS deleted FROM deleted`,
    [maxAgeSeconds, now]
  )
  return Number(row?.deleted ?? 0)
}

/** One execution, the execution list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getExecution, getExecutions, countExecutions } = historyQueries(POSTGRESQL_SQL)
