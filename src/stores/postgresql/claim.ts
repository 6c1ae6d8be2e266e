/**
 * The plan-step statements of the PostgreSQL (and PGlite) job store: the next wake-up, claiming due
 * jobs in one short transaction (running what the claimer starts itself, queued for workers the
 * rest), and queueing or starting a run now. Workers start queued runs in `queued-runs.ts`.
 *
 * Correctness lives in the database (DESIGN.md "Scheduling protocol"): due jobs are locked with
 * `FOR UPDATE SKIP LOCKED`, times come from `now()`, and `UNIQUE (job_id, run_time, attempt)` with
 * `ON CONFLICT DO NOTHING` refuses a second execution of one attempt of an occurrence.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditRun } from './audit.js'
import { QUEUED_PAYLOAD, WAKEUP_CHANNEL } from '../wakeup.js'
import type { ClaimedJob, ClaimOptions, ExecutionRecord, NextWakeup } from '../job-store.js'
import { groupClaims, plannedExecution, plannedRows, type PlannedRow } from '../planned-rows.js'
import type { AuditContext } from '../audit.js'
import { EXECUTION_COLUMNS, JOB_COLUMNS, liveRunning, nowParam, rowToExecution, rowToJob } from '../rows.js'

export async function getNextWakeup (db: SqlExecutor): Promise<NextWakeup> {
  const [row] = await db.query<{ next: unknown, now: unknown }>(
    `SELECT (SELECT next_run_time FROM scheduler_job
             WHERE NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL
             ORDER BY next_run_time LIMIT 1) AS next, now() AS now`
  )
  return { nextRunTime: toDateOrNull(row?.next), now: toDate(row?.now) }
}

/**
 * The plan step (DESIGN.md "Scheduling protocol" 2): locks due jobs, plans each, and writes their
 * executions in one statement: a batch this claimer can start itself (its task in `tasks`, within
 * `startLimit` batches) `running` under its lease, the others `queued` with their task for any
 * worker, `missed` / `max_instances` as planned. Planning never waits for executor capacity.
 * With `aheadMs`, jobs due within that many milliseconds are locked and planned too; their
 * occurrences claimed ahead (`ClaimPlan.ahead`) are written with `start_after`, and a running one
 * has its `started_at` and lease counted from it.
 */
export async function claimDueJobs (db: SqlClient, options: ClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const fence = options.fence
    const [head] = await tx.query<{ now: unknown, leading: boolean }>(
      `WITH fence AS (${FENCE_SQL})
       SELECT ${nowParam(1)} AS now, ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM fence)) AS leading`,
      [options.now, fence?.lockKey ?? null, fence?.nodeId ?? null, fence?.backendPid ?? null, fence?.staleMs ?? null]
    )
    if (head === undefined || !head.leading) return []
    const now = toDate(head.now)
    const horizon = new Date(now.getTime() + (options.aheadMs ?? 0))
    // Lock the due jobs first, then count their instances in a statement of its own: in READ
    // COMMITTED each statement takes a fresh snapshot, so the count sees every instance committed
    // before the lock was granted. A count inside the locking statement would be that statement's
    // snapshot, taken before a claimer that just committed this job had started its instance (the
    // job row is re-read after the lock, the count is not), and would admit one more.
    const jobRows = await tx.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler_job AS j
       WHERE NOT paused AND last_error IS NULL AND next_run_time <= $1
       ORDER BY next_run_time LIMIT $2 FOR UPDATE OF j SKIP LOCKED`,
      [horizon, options.limit]
    )
    if (jobRows.length === 0) return []
    const jobs = jobRows.map(rowToJob)
    const instances = await instanceCounts(tx, jobs.map((job) => job.id), now)
    const plans = jobs.map((job) => options.plan(job, now, instances.get(job.id) ?? 0, horizon))

    const rows = plannedRows(jobs, plans, options)
    // One statement: advance the jobs, and insert their executions (a conflict on the
    // occurrence key means another process has that occurrence: no row comes back for it). Only
    // the new ids come back, with their ordinal in the arrays; the records are built from the rows
    // sent (plannedExecution), as the insert computes them. plannedRows names each occurrence
    // once, so each inserted row matches one planned row.
    const returned = await tx.query<{ id: unknown, ord: unknown }>(
      `WITH advanced AS (
         UPDATE scheduler_job AS j SET next_run_time = u.next_run_time, next_fire_time = u.next_fire_time, last_error = u.last_error
         FROM unnest($7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[]) AS u(id, next_run_time, next_fire_time, last_error)
         WHERE j.id = u.id),
       planned AS (
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $11::text[], $12::timestamptz[]) WITH ORDINALITY AS t(job_id, run_time, status, task, start_after, ord)),
       inserted AS (
         INSERT INTO scheduler_job_execution (job_id, run_time, status, task, start_after, started_at, finished_at, owner, lease_until)
         SELECT t.job_id, t.run_time, t.status, t.task, t.start_after,
                CASE WHEN t.status = 'running' THEN coalesce(t.start_after, $4::timestamptz) END,
                CASE WHEN t.status NOT IN ('running', 'queued') THEN $4::timestamptz END,
                CASE WHEN t.status <> 'queued' THEN $5 END,
                CASE WHEN t.status = 'running' THEN coalesce(t.start_after, $4::timestamptz) + make_interval(secs => $6 / 1000.0) END
         FROM planned AS t
         ON CONFLICT (job_id, run_time, attempt) DO NOTHING
         RETURNING id, job_id, run_time)
       SELECT i.id, t.ord FROM inserted AS i JOIN planned AS t ON t.job_id = i.job_id AND t.run_time = i.run_time`,
      [
        rows.map((row) => row.jobId), rows.map((row) => row.runTime), rows.map((row) => row.status), now, options.owner, options.leaseMs,
        jobs.map((job) => job.id), plans.map((plan) => plan.nextRunTime),
        plans.map((plan) => plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime), plans.map((plan) => plan.lastError ?? null),
        rows.map((row) => row.task), rows.map((row) => row.startAfter)
      ]
    )
    const inserted = returned.map(({ id, ord }) => plannedExecution(rows[Number(ord) - 1] as PlannedRow, Number(id), now, options))
    // Wakes idle workers at commit (the channel is placed in the store's schema, like job changes').
    if (inserted.some((execution) => execution.status === 'queued')) await notifyQueued(tx)
    return groupClaims(jobs, plans, rows, inserted)
  }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
}

/**
 * The leader fence ($2 lock key, $3 node id, $4 backend pid, $5 stale milliseconds): the leader row
 * still names this node and its lock session, and its heartbeat (written on the database clock, so
 * read against `now()`, never a test clock) is younger than `leaderStaleMs`. The row is taken
 * `FOR SHARE`: a standby's takeover, which rewrites it, waits until this claim commits.
 */
const FENCE_SQL = `SELECT 1 FROM scheduler_leader
  WHERE lock_key = $2 AND node_id = $3 AND backend_pid = $4 AND heartbeat_at > now() - make_interval(secs => $5 / 1000.0)
  FOR SHARE`

/** `NOTIFY` the wake-up channel with {@link QUEUED_PAYLOAD}: workers LISTENing wake and start queued runs (delivered at commit). */
export async function notifyQueued (db: SqlExecutor): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [WAKEUP_CHANNEL, QUEUED_PAYLOAD])
}

/**
 * `runJob`: an extra occurrence now, queued for any worker with its task. Admitted like a planned
 * one: with the job's instances (queued first attempts and live running executions) at
 * `max_instances`, it is recorded `max_instances` at once instead (APScheduler counts a job
 * submitted to a busy pool as an instance).
 */
export async function queueRun (db: SqlClient, jobId: string, now: Date | null, audit?: AuditContext): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ task: string, max_instances: number, now: unknown }>(
      `SELECT task, max_instances, date_trunc('milliseconds', ${nowParam(2)}) AS now FROM scheduler_job WHERE id = $1 FOR UPDATE`,
      [jobId, now]
    )
    if (job === undefined) return null
    const at = toDate(job.now)
    const admitted = ((await instanceCounts(tx, [jobId], at)).get(jobId) ?? 0) < job.max_instances
    const queued = await insertRunNow(tx, jobId, at, admitted
      ? { status: 'queued', task: job.task, owner: null, leaseMs: 0 }
      : { status: 'max_instances', task: job.task, owner: null, leaseMs: 0 }, audit)
    if (admitted) await notifyQueued(tx)
    return queued
  })
}

/** `runJob(…, { inProcess: true })`: an extra occurrence now, `running` under this node's lease when the job has a free instance slot, else `max_instances`. */
export async function claimImmediateRun (db: SqlClient, jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ task: string, max_instances: number, now: unknown }>(
      `SELECT task, max_instances, date_trunc('milliseconds', ${nowParam(2)}) AS now FROM scheduler_job WHERE id = $1 FOR UPDATE`,
      [jobId, options.now]
    )
    if (job === undefined) return null
    const now = toDate(job.now)
    const free = ((await instanceCounts(tx, [jobId], now)).get(jobId) ?? 0) < job.max_instances
    return insertRunNow(tx, jobId, now, { status: free ? 'running' : 'max_instances', task: job.task, owner: options.owner, leaseMs: options.leaseMs }, options.audit)
  })
}

/**
 * Inserts a run-now row. An occurrence is keyed by (job_id, run_time): a run-now that lands on the
 * same millisecond as another occurrence of the job moves one millisecond later. Only the key moves:
 * started_at / finished_at / lease_until stay on the real time.
 */
async function insertRunNow (
  tx: SqlExecutor, jobId: string, now: Date,
  row: { status: 'running' | 'queued' | 'max_instances', task: string, owner: string | null, leaseMs: number }, audit: AuditContext | undefined
): Promise<ExecutionRecord> {
  for (let runTime = now.getTime(); ; runTime += 1) {
    const [inserted] = await tx.query(
      `INSERT INTO scheduler_job_execution (job_id, run_time, status, task, started_at, finished_at, owner, lease_until)
       VALUES ($1, $2, $3, $7, CASE WHEN $3 = 'running' THEN $6::timestamptz END, CASE WHEN $3 = 'max_instances' THEN $6::timestamptz END,
               $4, CASE WHEN $3 = 'running' THEN $6::timestamptz + make_interval(secs => $5 / 1000.0) END)
       ON CONFLICT (job_id, run_time, attempt) DO NOTHING
       RETURNING ${EXECUTION_COLUMNS}`,
      [jobId, new Date(runTime), row.status, row.owner, row.leaseMs, now, row.task]
    )
    if (inserted !== undefined) {
      const execution = rowToExecution(inserted)
      await auditRun(tx, audit, execution)
      return execution
    }
  }
}

/**
 * Instances per job at `now` (max instances, cluster-wide): live running executions (`running` with
 * a lease not yet expired: after an outage an expired row's outcome may never come, and it must not
 * hold a slot) plus queued first attempts (planned or `runJob` runs waiting for a worker). A queued
 * retry is not counted: it waits for a free slot instead.
 */
export async function instanceCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, instances: number }>(
    `SELECT job_id, count(*)::integer AS instances FROM (
       SELECT job_id FROM scheduler_job_execution WHERE ${liveRunning('', '$2')} AND job_id = ANY($1::text[])
       UNION ALL
       SELECT job_id FROM scheduler_job_execution WHERE status = 'queued' AND attempt = 1 AND job_id = ANY($1::text[])
     ) AS i GROUP BY job_id`,
    [jobIds, now]
  )
  return new Map(rows.map((row) => [row.job_id, row.instances]))
}
