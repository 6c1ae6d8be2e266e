/**
 * The execution statistics of the MySQL/MariaDB job store (`../execution-stats.ts`, as
 * `postgresql/stats.ts`): one statement per chart, each a range scan on an index of
 * `scheduler_job_execution`. MySQL has no `percentile_cont` (MariaDB has it only as a window
 * function), so the fire-lag percentiles are interpolated from the two ranked lags around each
 * percentile, as `percentile_cont` does. Ties sort by code point (the tables are `utf8mb4_bin`).
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../execution-status.js'
import type { SqlClient } from '../../sql/sql-client.js'
import type { FireLagStats, MinuteStatusCount, RunTimeRange } from '../execution-stats.js'
import { historyQueries } from '../history-queries.js'
import { MYSQL_SQL } from './sql.js'

/** Every status listed, so the `(status, run_time)` index serves a run-time range; two values: from, to. */
const IN_RANGE = `status IN (${EXECUTION_STATUSES.map((status) => `'${status}'`).join(', ')}) AND run_time >= ? AND run_time < ?`

export async function countExecutionsPerMinute (db: SqlClient, range: RunTimeRange): Promise<MinuteStatusCount[]> {
  // Minutes from the epoch of the UTC datetime (TIMESTAMPDIFF of two datetimes ignores time zones).
  const rows = await db.query(
    `SELECT FLOOR(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', run_time) / 60) * 60000 AS minute_ms, status, count(*) AS count
     FROM scheduler_job_execution WHERE ${IN_RANGE}
     GROUP BY minute_ms, status ORDER BY minute_ms, status`,
    [range.from, range.to]
  )
  return rows.map((row) => ({ minute: new Date(Number(row.minute_ms)), status: row.status as ExecutionStatus, count: Number(row.count) }))
}

const PERCENTILES = [0.5, 0.95]

export async function getFireLag (db: SqlClient, range: RunTimeRange): Promise<FireLagStats> {
  // The ranks percentile_cont interpolates between (1-based): floor and ceil of 1 + p (n - 1), and n for the max.
  const ranks = PERCENTILES.flatMap((p) => [`FLOOR(1 + ${p} * (n - 1))`, `CEIL(1 + ${p} * (n - 1))`]).join(', ')
  const rows = await db.query<{ rn: number, n: number, lag_ms: number }>(
    `SELECT rn, n, lag_ms FROM (
       SELECT lag_ms, ROW_NUMBER() OVER (ORDER BY lag_ms) AS rn, COUNT(*) OVER () AS n FROM (
         SELECT TIMESTAMPDIFF(MICROSECOND, run_time, started_at) / 1000 AS lag_ms
         FROM scheduler_job_execution WHERE ${IN_RANGE} AND started_at IS NOT NULL AND attempt = 1) AS lags) AS ranked
     WHERE rn IN (${ranks}, n)`,
    [range.from, range.to]
  )
  const count = Number(rows[0]?.n ?? 0)
  if (count === 0) return { count: 0, p50Ms: null, p95Ms: null, maxMs: null }
  const lag = new Map(rows.map((row) => [Number(row.rn), Number(row.lag_ms)]))
  const percentile = (p: number): number => {
    const position = 1 + p * (count - 1)
    const low = lag.get(Math.floor(position)) as number
    const high = lag.get(Math.ceil(position)) as number
    return low + (high - low) * (position - Math.floor(position))
  }
  return { count, p50Ms: percentile(0.5), p95Ms: percentile(0.95), maxMs: lag.get(count) as number }
}

/** A job's run history and the slowest jobs: built once for every dialect (`../history-queries.ts`). */
export const { getRunHistory, getSlowestJobs } = historyQueries(MYSQL_SQL)
