/**
 * Maps `scheduler_job` / `scheduler_job_execution` rows (snake_case, driver-typed) to records.
 */
import type { ExecutionStatus, TerminalStatus } from '../execution-status.js'
import { toDate, toDateOrNull } from '../sql/sql-client.js'
import type { TriggerJson } from '../triggers/types.js'
import type { RetryPolicy } from '../scheduler/retry-policy.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord, NodeRecord } from './job-store.js'

/** Column list of `scheduler_job` in record order, for SELECT and RETURNING. */
export const JOB_COLUMNS = 'id, name, task, args, trigger, next_run_time, next_fire_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, capture_logs, retry, recover, created_at, updated_at, version, last_error'

/**
 * Column list of `scheduler_job_execution`, for SELECT and RETURNING: every column but the
 * handler's `result` and `logs` (up to 64 KiB each), which only single-execution reads fetch
 * ({@link EXECUTION_DETAIL_COLUMNS}), so lists, statistics, claims and outcome batches stay small.
 */
export const EXECUTION_COLUMNS = 'id, job_id, run_time, attempt, next_attempt_at, start_after, status, started_at, finished_at, duration_ms, exception, traceback, owner, lease_until, late_status, late_finished_at, late_exception'

/** `EXECUTION_COLUMNS` with `result` and `logs`, for reading one execution. */
export const EXECUTION_DETAIL_COLUMNS = `${EXECUTION_COLUMNS}, result, logs`

/** `EXECUTION_COLUMNS` qualified with the alias `e`, for RETURNING of `UPDATE … AS e FROM …`. */
export const EXECUTION_COLUMNS_OF_E = EXECUTION_COLUMNS.split(', ').map((column) => `e.${column}`).join(', ')

/** `$n::timestamptz` that falls back to the database clock when the parameter is null. */
export const nowParam = (n: number): string => `coalesce($${n}::timestamptz, now())`

/**
 * The condition for a live running execution (it holds an instance slot) at the timestamp `now`,
 * `prefix` naming the table alias: `running` with a lease not yet expired. One definition for every
 * count of running executions.
 */
export const liveRunning = (prefix: string, now: string): string => `${prefix}status = 'running' AND ${prefix}lease_until >= ${now}`

export function rowToJob (row: Record<string, any>): JobRecord {
  return {
    id: row.id,
    name: row.name,
    task: row.task,
    args: parseJson(row.args) as unknown[],
    trigger: parseJson(row.trigger) as TriggerJson,
    nextRunTime: toDateOrNull(row.next_run_time),
    nextFireTime: toDateOrNull(row.next_fire_time),
    paused: row.paused,
    misfireGraceTime: row.misfire_grace_time,
    coalesce: row.coalesce,
    maxInstances: row.max_instances,
    captureLogs: row.capture_logs ?? true,
    retry: (parseJson(row.retry) ?? null) as RetryPolicy | null,
    recover: row.recover ?? false,
    timeoutMs: row.timeout_ms,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    version: row.version,
    lastError: row.last_error
  }
}

export function rowToExecution (row: Record<string, any>): ExecutionRecord {
  return {
    id: Number(row.id),
    jobId: row.job_id,
    runTime: toDate(row.run_time),
    attempt: row.attempt ?? 1,
    nextAttemptAt: toDateOrNull(row.next_attempt_at),
    startAfter: toDateOrNull(row.start_after),
    status: row.status as ExecutionStatus,
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    exception: row.exception,
    traceback: row.traceback,
    owner: row.owner,
    leaseUntil: toDateOrNull(row.lease_until),
    lateStatus: (row.late_status ?? null) as TerminalStatus | null,
    lateFinishedAt: toDateOrNull(row.late_finished_at),
    lateException: row.late_exception ?? null,
    // Only detail reads select them. jsonb arrives parsed (pg, PGlite): a JSON string result is a JS string, so no second parse here.
    ...('result' in row ? { result: row.result ?? null, logs: (row.logs ?? null) as ExecutionRecord['logs'] } : {})
  }
}

/**
 * The 16 values of a new job's row, in the order every dialect's insert names its columns: id,
 * name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances,
 * timeout_ms, last_error, next_fire_time, capture_logs, retry, recover. json columns as JSON text
 * (a null retry policy as SQL NULL); the defaults of fields a record may leave out.
 */
export function newJobValues (job: NewJobRecord): unknown[] {
  return [
    job.id, job.name, job.task, JSON.stringify(job.args), JSON.stringify(job.trigger), job.nextRunTime, job.paused,
    job.misfireGraceTime, job.coalesce, job.maxInstances, job.timeoutMs, job.lastError,
    job.nextFireTime === undefined ? job.nextRunTime : job.nextFireTime,
    job.captureLogs ?? true,
    job.retry === undefined || job.retry === null ? null : JSON.stringify(job.retry),
    job.recover ?? false
  ]
}

/**
 * A `scheduler_node` row of `getNodes` (its columns, `last_seen_ago_ms` and `running`) as a record.
 * `tasks` and `roles` are json: parsed by the driver (PostgreSQL, PGlite, MySQL) or text (SQLite).
 */
export function rowToNode (row: Record<string, any>): NodeRecord {
  return {
    nodeId: row.node_id,
    host: row.host,
    pid: row.pid,
    tasks: (parseJson(row.tasks) ?? []) as string[],
    roles: (parseJson(row.roles) ?? []) as NodeRecord['roles'],
    lock: row.lock,
    heartbeatMs: row.heartbeat_ms,
    startedAt: toDate(row.started_at),
    lastSeenAt: toDate(row.last_seen_at),
    lastSeenAgoMs: Math.round(Number(row.last_seen_ago_ms)),
    running: Number(row.running)
  }
}

/** A patch that moves `nextRunTime` without saying `nextFireTime` moves both (no jitter). */
export function withFireTime (patch: JobPatch): JobPatch {
  return 'nextRunTime' in patch && !('nextFireTime' in patch) ? { ...patch, nextFireTime: patch.nextRunTime } : patch
}

/** jsonb arrives parsed from `pg` and PGlite; text is tolerated for drivers that leave it raw. */
function parseJson (value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value
}
