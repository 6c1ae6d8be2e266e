/**
 * The execution statistics of the SQLite job store (`../execution-stats.ts`), with the results of
 * `postgresql/stats.ts`: one statement per chart, on the indexes of `scheduler_job_execution`.
 * SQLite has no `percentile_cont`: the percentiles are computed the same way (linear interpolation
 * between the two nearest ranks, PostgreSQL docs "Aggregate Functions") with `row_number()`.
 * Ties and groups are ordered by SQLite's BINARY collation (code-point order, as the memory store).
 */
import type { ExecutionStatus } from '../../execution-status.js'
import { toDate, toDateOrNull, type SqlClient } from '../../sql/sql-client.js'
import type { FireLagStats, MinuteStatusCount, RunHistoryEntry, RunTimeRange, SlowJob } from '../execution-stats.js'

const IN_RANGE = 'run_time >= ?1 AND run_time < ?2'

export async function getRunHistory (db: SqlClient, jobId: string, limit: number): Promise<RunHistoryEntry[]> {
  const rows = await db.query(
    `SELECT id, run_time, status, started_at, duration_ms FROM scheduler_job_execution
     WHERE job_id = ?1 ORDER BY run_time DESC, id DESC LIMIT ?2`,
    [jobId, limit]
  )
  return rows.map((row) => ({
    id: Number(row.id),
    runTime: toDate(row.run_time),
    status: row.status as ExecutionStatus,
    startedAt: toDateOrNull(row.started_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms)
  }))
}

export async function countExecutionsPerMinute (db: SqlClient, range: RunTimeRange): Promise<MinuteStatusCount[]> {
  // Epoch milliseconds floored to the UTC minute (integer division; floor for times before 1970 too).
  const rows = await db.query(
    `SELECT (run_time - ((run_time % 60000) + 60000) % 60000) AS minute_ms, status, count(*) AS count
     FROM scheduler_job_execution WHERE ${IN_RANGE}
     GROUP BY 1, 2 ORDER BY minute_ms, status COLLATE BINARY`,
    [range.from, range.to]
  )
  return rows.map((row) => ({ minute: new Date(Number(row.minute_ms)), status: row.status as ExecutionStatus, count: Number(row.count) }))
}

/** `percentile_cont(q)` over `ranked(lag_ms, i, n)` (i from 0, n rows). */
const percentile = (q: number): string => `(SELECT a.lag_ms + (coalesce(b.lag_ms, a.lag_ms) - a.lag_ms) * ((a.n - 1) * ${q} - a.i)
  FROM ranked a LEFT JOIN ranked b ON b.i = a.i + 1
  WHERE a.i = CAST((a.n - 1) * ${q} AS INTEGER))`

export async function getFireLag (db: SqlClient, range: RunTimeRange): Promise<FireLagStats> {
  const [row] = await db.query(
    `WITH lags AS (
       SELECT CAST(started_at - run_time AS REAL) AS lag_ms FROM scheduler_job_execution
       WHERE ${IN_RANGE} AND started_at IS NOT NULL AND attempt = 1),
     ranked AS (SELECT lag_ms, row_number() OVER (ORDER BY lag_ms) - 1 AS i, count(*) OVER () AS n FROM lags)
     SELECT (SELECT count(*) FROM lags) AS count, ${percentile(0.5)} AS p50, ${percentile(0.95)} AS p95, (SELECT max(lag_ms) FROM lags) AS max`,
    [range.from, range.to]
  )
  const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
  return { count: Number(row?.count ?? 0), p50Ms: number(row?.p50), p95Ms: number(row?.p95), maxMs: number(row?.max) }
}

export async function getSlowestJobs (db: SqlClient, range: RunTimeRange, limit: number): Promise<SlowJob[]> {
  const rows = await db.query(
    `SELECT job_id, count(*) AS count, avg(duration_ms) AS mean_ms, max(duration_ms) AS max_ms
     FROM scheduler_job_execution WHERE ${IN_RANGE} AND duration_ms IS NOT NULL
     GROUP BY job_id ORDER BY mean_ms DESC, job_id COLLATE BINARY LIMIT ?3`,
    [range.from, range.to, limit]
  )
  return rows.map((row) => ({ jobId: row.job_id as string, count: Number(row.count), meanMs: Number(row.mean_ms), maxMs: Number(row.max_ms) }))
}
