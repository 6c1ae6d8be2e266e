/**
 * The plan-step statements of the MySQL/MariaDB job store (as `postgresql/claim.ts`): the next
 * wake-up, claiming due jobs in one short transaction, and queueing or starting a run now.
 *
 * Correctness lives in the database: due jobs are locked with `SELECT … FOR UPDATE SKIP LOCKED`
 * (MySQL ≥ 8.0.1, MariaDB ≥ 10.6), times come from `UTC_TIMESTAMP(3)`, and
 * `UNIQUE (job_id, run_time, attempt)` refuses a second execution of one attempt of an occurrence.
 *
 * Which occurrences a claimer won, without `INSERT … RETURNING` (MariaDB only): every writer of a
 * first attempt (this claim, `queueRun`, `claimImmediateRun`) holds its job's row lock (`FOR
 * UPDATE`) while it inserts, so once the claim has locked its jobs, the first attempts that exist
 * are read once and nobody can add one until it commits: the claim inserts exactly the planned
 * occurrences that do not exist (a plain INSERT: a duplicate would fail the whole claim rather than
 * be taken for a win), and reports the others as claimed elsewhere. Retries (attempt ≥ 2) are
 * written without the job lock but never collide with a first attempt.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditRun } from './audit.js'
import type { ClaimedJob, ClaimOptions, ExecutionRecord, JobRecord, NextWakeup } from '../job-store.js'
import type { AuditContext } from '../audit.js'
import { rowToExecution, rowToJob } from '../rows.js'
import { groupClaims, occurrenceKey, plannedRows, type PlannedRow } from '../planned-rows.js'
import { bumpChange } from './change-counter.js'
import { QUEUED_CHANNEL } from './change-counter.js'
import { insertId, isDuplicateKey, list, minusMs, MYSQL_EXECUTION_COLUMNS, MYSQL_JOB_COLUMNS, NOW, placeholders } from './sql.js'

export async function getNextWakeup (db: SqlExecutor): Promise<NextWakeup> {
  const [row] = await db.query<{ next: unknown, now: unknown }>(
    `SELECT (SELECT next_run_time FROM scheduler_job
             WHERE paused = FALSE AND last_error IS NULL AND next_run_time IS NOT NULL
             ORDER BY next_run_time LIMIT 1) AS next, UTC_TIMESTAMP(3) AS now`
  )
  return { nextRunTime: toDateOrNull(row?.next), now: toDate(row?.now) }
}

/**
 * The leader fence: the leader row still names this node and its lock session, and its heartbeat
 * (on the database clock) is younger than `staleMs`. Read `LOCK IN SHARE MODE` (the form both MySQL
 * and MariaDB accept): a standby's takeover, which rewrites the row, waits until this claim commits.
 * Values: now, lock key, node id, backend pid, stale ms.
 */
const FENCED_HEAD = `SELECT ${NOW} AS now FROM scheduler_leader
  WHERE lock_key = ? AND node_id = ? AND backend_pid = ? AND heartbeat_at > ${minusMs('UTC_TIMESTAMP(3)')}
  LOCK IN SHARE MODE`

/**
 * The plan step (as PostgreSQL's): locks due jobs, plans each, advances them and writes their
 * executions, `running` for a batch this claimer starts itself, `queued` for any worker,
 * `missed` / `max_instances` as planned. With `aheadMs`, jobs due within that many milliseconds
 * are locked and planned too; their occurrences claimed ahead (`ClaimPlan.ahead`) are written with
 * `start_after`, and a running one has its `started_at` and lease counted from it.
 */
export async function claimDueJobs (db: SqlClient, options: ClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const fence = options.fence
    const [head] = fence === undefined || fence === null
      ? await tx.query<{ now: unknown }>(`SELECT ${NOW} AS now`, [options.now])
      : await tx.query<{ now: unknown }>(FENCED_HEAD, [options.now, fence.lockKey, fence.nodeId, fence.backendPid, fence.staleMs])
    if (head === undefined) return []
    const now = toDate(head.now)
    const horizon = new Date(now.getTime() + (options.aheadMs ?? 0))
    const jobRows = await tx.query(
      `SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job
       WHERE paused = FALSE AND last_error IS NULL AND next_run_time <= ?
       ORDER BY next_run_time LIMIT ? FOR UPDATE SKIP LOCKED`,
      [horizon, options.limit]
    )
    if (jobRows.length === 0) return []
    const jobs = jobRows.map(rowToJob)
    // Counted after the lock, in a statement of its own (READ COMMITTED: a fresh snapshot).
    const instances = await instanceCounts(tx, jobs.map((job) => job.id), now)
    const plans = jobs.map((job) => options.plan(job, now, instances.get(job.id) ?? 0, horizon))

    const rows = plannedRows(jobs, plans, options)
    await tx.query(
      `UPDATE scheduler_job j JOIN (${jobs.map((_job, i) => i === 0 ? 'SELECT ? AS id, ? AS next_run_time, ? AS next_fire_time, ? AS last_error' : 'SELECT ?, ?, ?, ?').join(' UNION ALL ')}) u
       ON j.id = u.id SET j.next_run_time = u.next_run_time, j.next_fire_time = u.next_fire_time, j.last_error = u.last_error`,
      plans.flatMap((plan, i) => [(jobs[i] as JobRecord).id, plan.nextRunTime, plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime, plan.lastError ?? null])
    )
    const inserted = await insertNewOccurrences(tx, rows, now, options)
    if (inserted.some((execution) => execution.status === 'queued')) await notifyQueued(tx)
    return groupClaims(jobs, plans, rows, inserted)
  }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
}

/** Inserts the planned first attempts that do not exist yet (their jobs are locked: see the module doc) and returns them. */
async function insertNewOccurrences (tx: SqlExecutor, rows: PlannedRow[], now: Date, options: ClaimOptions): Promise<ExecutionRecord[]> {
  if (rows.length === 0) return []
  const existing = new Set((await tx.query<{ job_id: string, run_time: Date }>(
    `SELECT job_id, run_time FROM scheduler_job_execution WHERE attempt = 1 AND (job_id, run_time) IN (${rows.map(() => '(?, ?)').join(', ')})`,
    rows.flatMap((row) => [row.jobId, row.runTime])
  )).map((row) => occurrenceKey(row.job_id, toDate(row.run_time))))
  const fresh = rows.filter((row) => !existing.has(occurrenceKey(row.jobId, row.runTime)))
  if (fresh.length === 0) return []
  // A running row starts (and its lease runs) from its start_after when claimed ahead, else now.
  const startOf = (row: PlannedRow): Date => row.startAfter ?? now
  await tx.query(
    `INSERT INTO scheduler_job_execution (job_id, run_time, status, task, start_after, started_at, finished_at, owner, lease_until)
     VALUES ${fresh.map(() => placeholders(9)).join(', ')}`,
    fresh.flatMap((row) => [
      row.jobId, row.runTime, row.status, row.task, row.startAfter,
      row.status === 'running' ? startOf(row) : null,
      row.status === 'running' || row.status === 'queued' ? null : now,
      row.status === 'queued' ? null : options.owner,
      row.status === 'running' ? new Date(startOf(row).getTime() + options.leaseMs) : null
    ])
  )
  return (await tx.query(
    `SELECT ${MYSQL_EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE attempt = 1 AND (job_id, run_time) IN (${fresh.map(() => '(?, ?)').join(', ')}) ORDER BY id`,
    fresh.flatMap((row) => [row.jobId, row.runTime])
  )).map(rowToExecution)
}

/** Bumps the `queued` change counter: workers polling it wake and start queued runs (seen once this transaction commits). */
export async function notifyQueued (db: SqlExecutor): Promise<void> {
  await bumpChange(db, QUEUED_CHANNEL, null)
}

/** `runJob`: an extra occurrence now, queued for any worker, or `max_instances` when the job has no free slot (as PostgreSQL's). */
export async function queueRun (db: SqlClient, jobId: string, now: Date | null, audit?: AuditContext): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const job = await lockedJob(tx, jobId, now)
    if (job === null) return null
    const admitted = ((await instanceCounts(tx, [jobId], job.now)).get(jobId) ?? 0) < job.maxInstances
    const queued = await insertRunNow(tx, jobId, job.now, admitted
      ? { status: 'queued', task: job.task, owner: null, leaseMs: 0 }
      : { status: 'max_instances', task: job.task, owner: null, leaseMs: 0 }, audit)
    if (admitted) await notifyQueued(tx)
    return queued
  })
}

/** `runJob(…, { inProcess: true })`: an extra occurrence now, `running` under this node's lease when the job has a free slot, else `max_instances`. */
export async function claimImmediateRun (db: SqlClient, jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const job = await lockedJob(tx, jobId, options.now)
    if (job === null) return null
    const free = ((await instanceCounts(tx, [jobId], job.now)).get(jobId) ?? 0) < job.maxInstances
    return insertRunNow(tx, jobId, job.now, { status: free ? 'running' : 'max_instances', task: job.task, owner: options.owner, leaseMs: options.leaseMs }, options.audit)
  })
}

/** The job's task and max instances, locked `FOR UPDATE`, with the time (`now`, else the database clock). */
async function lockedJob (tx: SqlExecutor, jobId: string, now: Date | null): Promise<{ task: string, maxInstances: number, now: Date } | null> {
  const [job] = await tx.query<{ task: string, max_instances: number, now: unknown }>(
    `SELECT task, max_instances, ${NOW} AS now FROM scheduler_job WHERE id = ? FOR UPDATE`, [now, jobId])
  return job === undefined ? null : { task: job.task, maxInstances: job.max_instances, now: toDate(job.now) }
}

/**
 * Inserts a run-now row; one landing on the same millisecond as another occurrence of the job
 * moves one millisecond later (only the key moves: started_at / finished_at / lease_until stay).
 */
async function insertRunNow (
  tx: SqlExecutor, jobId: string, now: Date,
  row: { status: 'running' | 'queued' | 'max_instances', task: string, owner: string | null, leaseMs: number }, audit: AuditContext | undefined
): Promise<ExecutionRecord> {
  for (let runTime = now.getTime(); ; runTime += 1) {
    let result: unknown[]
    try {
      result = await tx.query(
        `INSERT INTO scheduler_job_execution (job_id, run_time, status, task, started_at, finished_at, owner, lease_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [jobId, new Date(runTime), row.status, row.task, row.status === 'running' ? now : null, row.status === 'max_instances' ? now : null,
          row.owner, row.status === 'running' ? new Date(now.getTime() + row.leaseMs) : null]
      )
    } catch (error) {
      if (isDuplicateKey(error)) continue // a failed statement leaves the MySQL transaction open
      throw error
    }
    const [inserted] = await tx.query(`SELECT ${MYSQL_EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE id = ?`, [insertId(result)])
    const execution = rowToExecution(inserted as Record<string, unknown>)
    await auditRun(tx, audit, execution)
    return execution
  }
}

/**
 * Instances per job at `now` (cluster-wide, as PostgreSQL's): live running executions plus queued
 * first attempts.
 */
export async function instanceCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const ids = list(jobIds)
  const rows = await tx.query<{ job_id: string, instances: number }>(
    `SELECT job_id, count(*) AS instances FROM (
       SELECT job_id FROM scheduler_job_execution WHERE status = 'running' AND lease_until >= ? AND job_id IN (?)
       UNION ALL
       SELECT job_id FROM scheduler_job_execution WHERE status = 'queued' AND attempt = 1 AND job_id IN (?)
     ) AS i GROUP BY job_id`,
    [now, ids, ids]
  )
  return new Map(rows.map((row) => [row.job_id, Number(row.instances)]))
}
