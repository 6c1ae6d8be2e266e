/**
 * The execution statistics of the PostgreSQL (and PGlite) job store (`../execution-stats.ts`): one
 * statement per chart, each bounded by a `LIMIT` or by its grouping (minutes × statuses), and each
 * a range scan on an index of `scheduler_job_execution` (the occurrence key `(job_id, run_time,
 * attempt)`, scanned backwards, for a job's history; `(status, run_time)` for the time ranges).
 *
 * Ties and groups are ordered with `COLLATE "C"` so the order is the same as the memory store's
 * (code-unit order) whatever the database's collation.
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../execution-status.js'
import type { SqlClient } from '../../sql/sql-client.js'
import type { FireLagStats, MinuteStatusCount, RunTimeRange } from '../execution-stats.js'
import { historyQueries } from '../history-queries.js'
import { POSTGRESQL_SQL } from './sql.js'

/**
 * `status = ANY(all statuses)`: lets the planner use the `(status, run_time)` index for a run-time
 * range (one index range per status) instead of scanning the whole history.
 */
const ANY_STATUS = `status = ANY('{${EXECUTION_STATUSES.join(',')}}'::text[])`
const IN_RANGE = `${ANY_STATUS} AND run_time >= $1::timestamptz AND run_time < $2::timestamptz`

export async function countExecutionsPerMinute (db: SqlClient, range: RunTimeRange): Promise<MinuteStatusCount[]> {
  // The minute from the epoch, not date_trunc: date_trunc on timestamptz follows the session's
  // time zone, and the buckets must be UTC minutes whatever it is.
  const rows = await db.query(
    `SELECT floor(extract(epoch FROM run_time) / 60)::bigint * 60000 AS minute_ms, status, count(*)::integer AS count
     FROM scheduler_job_execution WHERE ${IN_RANGE}
     GROUP BY 1, 2 ORDER BY minute_ms, status COLLATE "C"`,
    [range.from, range.to]
  )
  return rows.map((row) => ({ minute: new Date(Number(row.minute_ms)), status: row.status as ExecutionStatus, count: row.count as number }))
}

export async function getFireLag (db: SqlClient, range: RunTimeRange): Promise<FireLagStats> {
  const [row] = await db.query(
    `SELECT count(*)::integer AS count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_ms) AS p95,
            max(lag_ms) AS max
     FROM (SELECT (extract(epoch FROM started_at - run_time) * 1000)::double precision AS lag_ms
           FROM scheduler_job_execution WHERE ${IN_RANGE} AND started_at IS NOT NULL AND attempt = 1) AS lags`,
    [range.from, range.to]
  )
  const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
  return { count: Number(row?.count ?? 0), p50Ms: number(row?.p50), p95Ms: number(row?.p95), maxMs: number(row?.max) }
}

/** A job's run history and the slowest jobs: built once for every dialect (`../history-queries.ts`). */
export const { getRunHistory, getSlowestJobs } = historyQueries(POSTGRESQL_SQL)
