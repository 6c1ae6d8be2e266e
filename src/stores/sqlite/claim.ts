/**
 * The plan-step statements of the SQLite job store: the same functions and guarantees as
 * `postgresql/claim.ts`. SQLite has no row locks (`FOR UPDATE SKIP LOCKED`): every claim is one
 * `BEGIN IMMEDIATE` transaction (sqlite-client.ts), which holds the database's single write lock
 * from its first statement, so claims are serialised, each sees every earlier claim's rows, and
 * `UNIQUE (job_id, run_time, attempt)` with `ON CONFLICT DO NOTHING` still refuses a second
 * execution of one attempt of an occurrence (exactly once, across restarts too).
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { SQLITE_NOTIFY } from '../../sql/sqlite-client.js'
import { auditRun } from './audit.js'
import { QUEUED_PAYLOAD, WAKEUP_CHANNEL } from '../wakeup.js'
import type { ClaimedJob, ClaimOptions, ClaimPlan, ExecutionRecord, NextWakeup } from '../job-store.js'
import { groupClaims, plannedRows } from '../planned-rows.js'
import type { AuditContext } from '../audit.js'
import { EXECUTION_COLUMNS, JOB_COLUMNS } from '../rows.js'
import { jsonCell } from './jobs.js'
import { liveRunning, NOW_MS, nowParam, sqliteRowToExecution, sqliteRowToJob } from './sql.js'

export async function getNextWakeup (db: SqlExecutor): Promise<NextWakeup> {
  const [row] = await db.query<{ next: unknown, now: unknown }>(
    `SELECT (SELECT next_run_time FROM scheduler_job
             WHERE NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL
             ORDER BY next_run_time LIMIT 1) AS next, ${NOW_MS} AS now`
  )
  return { nextRunTime: toDateOrNull(row?.next), now: toDate(row?.now) }
}

/** The plan step (see `postgresql/claim.ts`), in one `BEGIN IMMEDIATE` transaction. */
export async function claimDueJobs (db: SqlClient, options: ClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const fence = options.fence
    const [head] = await tx.query<{ now: unknown, leading: number }>(
      `SELECT ${nowParam(1)} AS now, (?2 IS NULL OR EXISTS (${FENCE_SQL})) AS leading`,
      [options.now, fence?.lockKey ?? null, fence?.nodeId ?? null, fence?.backendPid ?? null, fence?.staleMs ?? null]
    )
    if (head === undefined || !head.leading) return []
    const now = toDate(head.now)
    const jobRows = await tx.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler_job
       WHERE NOT paused AND last_error IS NULL AND next_run_time <= ?1
       ORDER BY next_run_time LIMIT ?2`,
      [now, options.limit]
    )
    if (jobRows.length === 0) return []
    const jobs = jobRows.map(sqliteRowToJob)
    const instances = await instanceCounts(tx, jobs.map((job) => job.id), now)
    const plans = jobs.map((job) => options.plan(job, now, instances.get(job.id) ?? 0))

    const rows = plannedRows(jobs, plans, options)
    await tx.query(
      `UPDATE scheduler_job SET next_run_time = u.value ->> 1, next_fire_time = u.value ->> 2, last_error = u.value ->> 3
       FROM json_each(?1) AS u WHERE scheduler_job.id = u.value ->> 0`,
      [JSON.stringify(jobs.map((job, i) => {
        const plan = plans[i] as ClaimPlan
        return [job.id, plan.nextRunTime, plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime, plan.lastError ?? null].map(jsonCell)
      }))]
    )
    // A conflict on the occurrence key means the occurrence has its row already: none comes back for it.
    const inserted = rows.length === 0
      ? []
      : (await tx.query(
          `INSERT INTO scheduler_job_execution (job_id, run_time, status, task, start_after, started_at, finished_at, owner, lease_until)
           SELECT t.value ->> 0, t.value ->> 1, t.value ->> 2, t.value ->> 3, t.value ->> 4,
                  CASE WHEN t.value ->> 2 = 'running' THEN ?2 END,
                  CASE WHEN t.value ->> 2 NOT IN ('running', 'queued') THEN ?2 END,
                  CASE WHEN t.value ->> 2 <> 'queued' THEN ?3 END,
                  CASE WHEN t.value ->> 2 = 'running' THEN ?2 + ?4 END
           FROM json_each(?1) AS t WHERE true
           ON CONFLICT (job_id, run_time, attempt) DO NOTHING
           RETURNING ${EXECUTION_COLUMNS}`,
          [JSON.stringify(rows.map((row) => [row.jobId, row.runTime, row.status, row.task, row.startAfter].map(jsonCell))), now, options.owner, Math.round(options.leaseMs)]
        )).map(sqliteRowToExecution)
    if (inserted.some((execution) => execution.status === 'queued')) await notifyQueued(tx)
    return groupClaims(jobs, plans, rows, inserted)
  })
}

/** The leader fence (?2 lock key, ?3 node id, ?4 backend pid, ?5 stale milliseconds), as on PostgreSQL (no `FOR SHARE`: the transaction holds the write lock). */
const FENCE_SQL = `SELECT 1 FROM scheduler_leader
  WHERE lock_key = ?2 AND node_id = ?3 AND backend_pid = ?4 AND heartbeat_at > ${NOW_MS} - ?5`

/** Wakes this process's idle workers ({@link QUEUED_PAYLOAD}; at commit inside a transaction). */
export async function notifyQueued (db: SqlExecutor): Promise<void> {
  await db.query(SQLITE_NOTIFY, [WAKEUP_CHANNEL, QUEUED_PAYLOAD])
}

/** `runJob`: an extra occurrence now, queued for any worker (see `postgresql/claim.ts`). */
export async function queueRun (db: SqlClient, jobId: string, now: Date | null, audit?: AuditContext): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ task: string, max_instances: number, now: unknown }>(
      `SELECT task, max_instances, ${nowParam(2)} AS now FROM scheduler_job WHERE id = ?1`,
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

/** `runJob(…, { inProcess: true })` (see `postgresql/claim.ts`). */
export async function claimImmediateRun (db: SqlClient, jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ task: string, max_instances: number, now: unknown }>(
      `SELECT task, max_instances, ${nowParam(2)} AS now FROM scheduler_job WHERE id = ?1`,
      [jobId, options.now]
    )
    if (job === undefined) return null
    const now = toDate(job.now)
    const free = ((await instanceCounts(tx, [jobId], now)).get(jobId) ?? 0) < job.max_instances
    return insertRunNow(tx, jobId, now, { status: free ? 'running' : 'max_instances', task: job.task, owner: options.owner, leaseMs: options.leaseMs }, options.audit)
  })
}

/** Inserts a run-now row, one millisecond later while its run time is taken (see `postgresql/claim.ts`). */
async function insertRunNow (
  tx: SqlExecutor, jobId: string, now: Date,
  row: { status: 'running' | 'queued' | 'max_instances', task: string, owner: string | null, leaseMs: number }, audit: AuditContext | undefined
): Promise<ExecutionRecord> {
  for (let runTime = now.getTime(); ; runTime += 1) {
    const [inserted] = await tx.query(
      `INSERT INTO scheduler_job_execution (job_id, run_time, status, task, started_at, finished_at, owner, lease_until)
       VALUES (?1, ?2, ?3, ?7, CASE WHEN ?3 = 'running' THEN ?6 END, CASE WHEN ?3 = 'max_instances' THEN ?6 END,
               ?4, CASE WHEN ?3 = 'running' THEN ?6 + ?5 END)
       ON CONFLICT (job_id, run_time, attempt) DO NOTHING
       RETURNING ${EXECUTION_COLUMNS}`,
      [jobId, runTime, row.status, row.owner, Math.round(row.leaseMs), now, row.task]
    )
    if (inserted !== undefined) {
      const execution = sqliteRowToExecution(inserted)
      await auditRun(tx, audit, execution)
      return execution
    }
  }
}

/** Instances per job at `now` (see `postgresql/claim.ts` `instanceCounts`). */
export async function instanceCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, instances: number }>(
    `SELECT job_id, count(*) AS instances FROM (
       SELECT job_id FROM scheduler_job_execution WHERE ${liveRunning('', '?2')} AND job_id IN (SELECT value FROM json_each(?1))
       UNION ALL
       SELECT job_id FROM scheduler_job_execution WHERE status = 'queued' AND attempt = 1 AND job_id IN (SELECT value FROM json_each(?1))
     ) AS i GROUP BY job_id`,
    [jobIds, now]
  )
  return new Map(rows.map((row) => [row.job_id, Number(row.instances)]))
}
