/**
 * The execution statistics of the SQLite job store (`../execution-stats.ts`), with the results of
 * `postgresql/stats.ts`: one statement per chart, on the indexes of `scheduler_job_execution`.
 * SQLite has no `percentile_cont`: the percentiles are computed the same way (linear interpolation
 * between the two nearest ranks, PostgreSQL docs "Aggregate Functions") with `row_number()`.
 * Ties and groups are ordered by SQLite's BINARY collation (code-point order, as the memory store).
 */
import type { ExecutionStatus } from '../../execution-status.js'
import type { SqlClient } from '../../sql/sql-client.js'
import type { FireLagStats, MinuteStatusCount, RunTimeRange } from '../execution-stats.js'
import { historyQueries } from '../history-queries.js'
import { SQLITE_SQL } from './sql.js'

const IN_RANGE = 'run_time >= ?1 AND run_time < ?2'

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

/** A job's run history and the slowest jobs: built once for every dialect (`../history-queries.ts`). */
export const { getRunHistory, getSlowestJobs } = historyQueries(SQLITE_SQL)
