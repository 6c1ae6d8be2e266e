/**
 * Execution statistics: the aggregates behind the admin page's charts, read from the execution
 * history. Part of the job store port (`JobStore` extends {@link ExecutionStatsQueries}); each
 * chart is one bounded query: the PostgreSQL store runs it in SQL (`postgresql/stats.ts`), the
 * memory store folds its rows with the functions below, and one contract suite checks both.
 *
 * Terms: the *fire lag* of an execution is `startedAt − runTime`, how late its handler started
 * after the occurrence's fire time (jitter, claim delay, a busy executor, a leader failover);
 * `startedAt` of a finished run is its measured start (`finishedAt − durationMs`). A *finished*
 * execution has a terminal status; its *success rate* counts `success` among finished ones, so a
 * missed or refused (`max_instances`) occurrence counts against it like an error.
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from '../execution-status.js'
import type { ExecutionRecord } from './job-store.js'

/** Most executions a run-history strip shows. */
export const MAX_RUN_HISTORY = 100
/** Most jobs a slowest-jobs table lists. */
export const MAX_SLOWEST_JOBS = 50

/** A half-open range of run times, `from ≤ runTime < to`. */
export interface RunTimeRange {
  from: Date
  to: Date
}

/** One bar of a job's run-history strip. `durationMs` is milliseconds (null: never ran or still running). */
export interface RunHistoryEntry {
  id: number
  runTime: Date
  status: ExecutionStatus
  startedAt: Date | null
  durationMs: number | null
}

/** How many executions had one status in one UTC minute of run time. */
export interface MinuteStatusCount {
  /** The minute's first instant (UTC, seconds and milliseconds zero). */
  minute: Date
  status: ExecutionStatus
  count: number
}

/** Fire lag percentiles in milliseconds over the executions that started; null when none did. */
export interface FireLagStats {
  /** Executions with a start time in the range. */
  count: number
  /** Median lag, interpolated like PostgreSQL's `percentile_cont(0.5)`. */
  p50Ms: number | null
  /** 95th percentile lag, `percentile_cont(0.95)`. */
  p95Ms: number | null
  maxMs: number | null
}

/** A job's durations over a range (only executions with a `durationMs`). */
export interface SlowJob {
  jobId: string
  /** Executions with a duration. */
  count: number
  meanMs: number
  maxMs: number
}

/** The statistics part of the job store port. Each method is one bounded read; none writes. */
export interface ExecutionStatsQueries {
  /**
   * A job's newest `limit` executions (1 to {@link MAX_RUN_HISTORY}), newest first (run time, then
   * id), whatever their status; also for removed jobs (history outlives the job). Empty when none.
   */
  getRunHistory(jobId: string, limit: number): Promise<RunHistoryEntry[]>
  /**
   * Executions counted by UTC minute of their run time and status, over `range`. Only non-zero
   * counts, ordered by minute then status; at most one row per minute and status.
   */
  countExecutionsPerMinute(range: RunTimeRange): Promise<MinuteStatusCount[]>
  /** Fire lag (`startedAt − runTime`) percentiles over the executions in `range` that started. */
  getFireLag(range: RunTimeRange): Promise<FireLagStats>
  /**
   * The `limit` jobs (1 to {@link MAX_SLOWEST_JOBS}) with the highest mean `durationMs` over the
   * executions in `range` that have one; ties by job id.
   */
  getSlowestJobs(range: RunTimeRange, limit: number): Promise<SlowJob[]>
}

/** Statuses that never change again (everything but `queued` and `running`). */
export const FINISHED_STATUSES: readonly ExecutionStatus[] = EXECUTION_STATUSES.filter((status) => status !== 'queued' && status !== 'running')

/** `succeeded / finished` over run-history entries; `successRate` null when none finished. */
export function successRate (entries: readonly RunHistoryEntry[]): { finished: number, succeeded: number, successRate: number | null } {
  const finished = entries.filter((entry) => FINISHED_STATUSES.includes(entry.status)).length
  const succeeded = entries.filter((entry) => entry.status === 'success').length
  return { finished, succeeded, successRate: finished === 0 ? null : succeeded / finished }
}

/**
 * The `fraction` percentile of `values` with linear interpolation between the closest ranks, as
 * PostgreSQL's `percentile_cont` (and numpy's default): position `fraction × (n − 1)` in the sorted
 * values. Null for no values.
 */
export function percentileCont (values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const position = fraction * (sorted.length - 1)
  const lower = Math.floor(position)
  const below = sorted[lower] as number
  const above = sorted[Math.min(lower + 1, sorted.length - 1)] as number
  return below + (above - below) * (position - lower)
}

const inRange = (range: RunTimeRange) => (execution: ExecutionRecord): boolean =>
  execution.runTime >= range.from && execution.runTime < range.to

/** {@link ExecutionStatsQueries.getRunHistory} over records in memory. */
export function runHistoryOf (executions: Iterable<ExecutionRecord>, jobId: string, limit: number): RunHistoryEntry[] {
  return [...executions].filter((execution) => execution.jobId === jobId)
    .sort((a, b) => b.runTime.getTime() - a.runTime.getTime() || b.id - a.id)
    .slice(0, limit)
    .map(({ id, runTime, status, startedAt, durationMs }) => ({ id, runTime, status, startedAt, durationMs }))
}

/** {@link ExecutionStatsQueries.countExecutionsPerMinute} over records in memory. */
export function perMinuteOf (executions: Iterable<ExecutionRecord>, range: RunTimeRange): MinuteStatusCount[] {
  const counts = new Map<string, MinuteStatusCount>()
  for (const execution of [...executions].filter(inRange(range))) {
    const minute = Math.floor(execution.runTime.getTime() / 60_000) * 60_000
    const key = `${minute} ${execution.status}`
    const entry = counts.get(key) ?? { minute: new Date(minute), status: execution.status, count: 0 }
    entry.count++
    counts.set(key, entry)
  }
  return [...counts.values()].sort((a, b) => a.minute.getTime() - b.minute.getTime() || (a.status < b.status ? -1 : a.status > b.status ? 1 : 0))
}

/** {@link ExecutionStatsQueries.getFireLag} over records in memory. */
export function fireLagOf (executions: Iterable<ExecutionRecord>, range: RunTimeRange): FireLagStats {
  const lags = [...executions].filter(inRange(range))
    // First attempts only: a retry keeps its occurrence's run time, so its lag would be its backoff.
    .filter((execution) => execution.startedAt !== null && execution.attempt === 1)
    .map((execution) => (execution.startedAt as Date).getTime() - execution.runTime.getTime())
  return {
    count: lags.length,
    p50Ms: percentileCont(lags, 0.5),
    p95Ms: percentileCont(lags, 0.95),
    maxMs: lags.length === 0 ? null : Math.max(...lags)
  }
}

/** {@link ExecutionStatsQueries.getSlowestJobs} over records in memory. */
export function slowestJobsOf (executions: Iterable<ExecutionRecord>, range: RunTimeRange, limit: number): SlowJob[] {
  const byJob = new Map<string, number[]>()
  for (const execution of [...executions].filter(inRange(range))) {
    if (execution.durationMs === null) continue
    byJob.set(execution.jobId, [...(byJob.get(execution.jobId) ?? []), execution.durationMs])
  }
  return [...byJob].map(([jobId, durations]) => ({
    jobId,
    count: durations.length,
    meanMs: durations.reduce((sum, duration) => sum + duration, 0) / durations.length,
    maxMs: Math.max(...durations)
  })).sort((a, b) => b.meanMs - a.meanMs || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0)).slice(0, limit)
}
