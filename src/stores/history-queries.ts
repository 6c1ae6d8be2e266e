/**
 * The history reads that differ between databases only in syntax, written once with Kysely and
 * compiled for the store's dialect (`sql-dialect.ts`): one execution, the filtered and paged
 * execution list and its count, the audit trail's list and count, and two of the admin page's
 * statistics (a job's run history, the slowest jobs). Each dialect's `executions.ts`, `audit.ts`
 * and `stats.ts` export them (`historyQueries(its dialect)`); outcome writes, leases, reaping and
 * retention stay hand-written there (one round trip each, or several in one transaction, with
 * what only that database has).
 */
import type { Compilable } from 'kysely'
import { EXECUTION_STATUSES, type ExecutionStatus } from '../execution-status.js'
import { run } from '../sql/query-builder.js'
import { toDate, toDateOrNull, type SqlExecutor } from '../sql/sql-client.js'
import type { AuditFilter, AuditRecord } from './audit.js'
import type { RunHistoryEntry, RunTimeRange, SlowJob } from './execution-stats.js'
import type { ExecutionFilter, ExecutionRecord } from './job-store.js'
import { EXECUTION_COLUMN_NAMES, page, type SqlDialect } from './sql-dialect.js'

export interface HistoryQueries {
  getExecution: (db: SqlExecutor, id: number) => Promise<ExecutionRecord | null>
  getExecutions: (db: SqlExecutor, filter?: ExecutionFilter) => Promise<ExecutionRecord[]>
  countExecutions: (db: SqlExecutor, filter?: ExecutionFilter) => Promise<number>
  getAudit: (db: SqlExecutor, filter?: AuditFilter) => Promise<AuditRecord[]>
  countAudit: (db: SqlExecutor, filter?: AuditFilter) => Promise<number>
  getRunHistory: (db: SqlExecutor, jobId: string, limit: number) => Promise<RunHistoryEntry[]>
  getSlowestJobs: (db: SqlExecutor, range: RunTimeRange, limit: number) => Promise<SlowJob[]>
}

/** The history reads for `dialect`. */
export function historyQueries (dialect: SqlDialect): HistoryQueries {
  const { builder } = dialect
  /** The executions a filter selects: only the conditions it gives (times bound `run_time` inclusively). */
  const executions = (filter: ExecutionFilter) => {
    let query = builder.selectFrom('scheduler_job_execution')
    if (filter.jobId != null) query = query.where('job_id', '=', filter.jobId)
    if (filter.status != null) query = query.where('status', '=', filter.status)
    if (filter.from != null) query = query.where('run_time', '>=', filter.from)
    if (filter.to != null) query = query.where('run_time', '<=', filter.to)
    if (filter.owner != null) query = query.where('owner', '=', filter.owner)
    return query
  }
  /** The audit rows a filter selects (times bound `at` inclusively). */
  const audit = (filter: AuditFilter) => {
    let query = builder.selectFrom('scheduler_audit')
    if (filter.jobId != null) query = query.where('job_id', '=', filter.jobId)
    if (filter.actor != null) query = query.where('actor', '=', filter.actor)
    if (filter.from != null) query = query.where('at', '>=', filter.from)
    if (filter.to != null) query = query.where('at', '<=', filter.to)
    return query
  }
  /**
   * The executions of a run-time range (`[from, to)`), with every status listed so the
   * `(status, run_time)` index serves the range (one index range per status) instead of a scan of
   * the whole history.
   */
  const inRange = (range: RunTimeRange) => builder.selectFrom('scheduler_job_execution')
    .where('status', 'in', EXECUTION_STATUSES).where('run_time', '>=', range.from).where('run_time', '<', range.to)
  const count = async (db: SqlExecutor, query: Compilable): Promise<number> => {
    const [row] = await run<{ count: unknown }>(db, query)
    return Number(row?.count ?? 0)
  }

  return {
    getExecution: async (db, id) => {
      const [row] = await run(db, builder.selectFrom('scheduler_job_execution').select([...EXECUTION_COLUMN_NAMES, 'result', 'logs']).where('id', '=', id))
      return row === undefined ? null : dialect.toExecution(row)
    },
    getExecutions: async (db, filter = {}) => (await run(db, page(
      executions(filter).select(EXECUTION_COLUMN_NAMES).orderBy('run_time', 'desc').orderBy('id', 'desc'), filter))).map(dialect.toExecution),
    countExecutions: async (db, filter = {}) => count(db, executions(filter).select((eb) => eb.fn.countAll().as('count'))),
    getAudit: async (db, filter = {}) => {
      const rows = await run(db, page(
        audit(filter).select(['id', 'at', 'action', 'job_id', 'actor', 'changes']).orderBy('at', 'desc').orderBy('id', 'desc'), filter))
      return rows.map((row) => ({
        id: Number(row.id),
        at: toDate(row.at),
        action: row.action,
        jobId: row.job_id,
        actor: row.actor,
        // json arrives parsed (PostgreSQL, PGlite, MySQL's type cast) or as text (SQLite).
        changes: typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes
      }))
    },
    countAudit: async (db, filter = {}) => count(db, audit(filter).select((eb) => eb.fn.countAll().as('count'))),
    getRunHistory: async (db, jobId, limit) => {
      const rows = await run(db, builder.selectFrom('scheduler_job_execution')
        .select(['id', 'run_time', 'status', 'started_at', 'duration_ms'])
        .where('job_id', '=', jobId).orderBy('run_time', 'desc').orderBy('id', 'desc').limit(limit))
      return rows.map((row) => ({
        id: Number(row.id),
        runTime: toDate(row.run_time),
        status: row.status as ExecutionStatus,
        startedAt: toDateOrNull(row.started_at),
        durationMs: row.duration_ms === null ? null : Number(row.duration_ms)
      }))
    },
    /** Jobs by mean duration, slowest first; ties by job id in code-point order. */
    getSlowestJobs: async (db, range, limit) => {
      const rows = await run(db, inRange(range).where('duration_ms', 'is not', null)
        .select((eb) => ['job_id', eb.fn.countAll().as('count'), eb.fn.avg('duration_ms').as('mean_ms'), eb.fn.max('duration_ms').as('max_ms')])
        .groupBy('job_id').orderBy('mean_ms', 'desc').orderBy(dialect.codePointOrder('job_id')).limit(limit))
      return rows.map((row) => ({ jobId: row.job_id as string, count: Number(row.count), meanMs: Number(row.mean_ms), maxMs: Number(row.max_ms) }))
    }
  }
}
