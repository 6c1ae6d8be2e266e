/**
 * The claim statements of the PostgreSQL (and PGlite) job store: the next wake-up, claiming due
 * jobs and queued runs in one short transaction, and queueing or starting a run now.
 *
 * Correctness lives in the database (DESIGN.md "Scheduling protocol"): due jobs are locked with
 * `FOR UPDATE SKIP LOCKED`, times come from `now()`, and `UNIQUE (job_id, run_time, attempt)` with
 * `ON CONFLICT DO NOTHING` refuses a second execution of one attempt of an occurrence.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { auditRun } from './audit.js'
import { REMOVED_BEFORE_RETRY, REMOVED_BEFORE_RUN, type ClaimedJob, type ClaimOptions, type ClaimPlan, type ExecutionRecord, type JobRecord, type NextWakeup } from '../job-store.js'
import type { AuditContext } from '../audit.js'
import { EXECUTION_COLUMNS, EXECUTION_COLUMNS_OF_E, JOB_COLUMNS, liveRunning, nowParam, rowToExecution, rowToJob } from '../rows.js'

export async function getNextWakeup (db: SqlExecutor): Promise<NextWakeup> {
  const [row] = await db.query<{ next: unknown, now: unknown }>(
    `SELECT least(
              (SELECT next_run_time FROM scheduler_job
               WHERE NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL
               ORDER BY next_run_time LIMIT 1),
              (SELECT min(coalesce(e.start_after, e.run_time)) FROM scheduler_job_execution e
               WHERE e.status = 'queued' AND NOT ${retryBlocked('e', 'now()', true)})
            ) AS next, now() AS now`
  )
  return { nextRunTime: toDateOrNull(row?.next), now: toDate(row?.now) }
}

export async function claimDueJobs (db: SqlClient, options: ClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const fence = options.fence
    const [head] = await tx.query<{ now: unknown, leading: boolean, queued: QueuedRun[] | string | null }>(
      `WITH fence AS (${FENCE_SQL}),
       queued AS (
         SELECT e.id, e.job_id, e.attempt FROM scheduler_job_execution e
         WHERE e.status = 'queued' AND (e.start_after IS NULL OR e.start_after <= ${nowParam(1)})
           AND NOT ${retryBlocked('e', nowParam(1), false)}
         ORDER BY e.run_time, e.id LIMIT $2 FOR UPDATE OF e SKIP LOCKED)
       SELECT ${nowParam(1)} AS now,
              ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM fence)) AS leading,
              (SELECT json_agg(json_build_object('id', id, 'job_id', job_id, 'attempt', attempt)) FROM queued) AS queued`,
      [options.now, options.limit, fence?.lockKey ?? null, fence?.nodeId ?? null, fence?.backendPid ?? null, fence?.staleMs ?? null]
    )
    if (head === undefined || !head.leading) return []
    const now = toDate(head.now)
    // json arrives parsed from pg and PGlite; text is tolerated for drivers that leave it raw.
    const queued = (typeof head.queued === 'string' ? JSON.parse(head.queued) : head.queued ?? []) as QueuedRun[]
    const started = await startQueued(tx, queued, now, options)
    const limit = options.limit - queued.length
    if (limit <= 0) return started
    // Lock the due jobs first, then count their running executions in a statement of its own: in
    // READ COMMITTED each statement takes a fresh snapshot, so the count sees every instance
    // committed before the lock was granted. A count inside the locking statement would be that
    // statement's snapshot, taken before a claimer that just committed this job had started its
    // instance (the job row is re-read after the lock, the count is not), and would admit one more.
    const jobRows = await tx.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler_job AS j
       WHERE NOT paused AND last_error IS NULL AND next_run_time <= $1
       ORDER BY next_run_time LIMIT $2 FOR UPDATE OF j SKIP LOCKED`,
      [now, limit]
    )
    if (jobRows.length === 0) return started
    const jobs = jobRows.map(rowToJob)
    // A running row whose lease has expired counts as dead even before the reaper marks it
    // abandoned: after an outage its owner's outcome may never come, and it must not hold a slot.
    const running = await runningCounts(tx, jobs.map((job) => job.id), now)
    const plans = jobs.map((job) => options.plan(job, now, running.get(job.id) ?? 0))

    const jobIds: string[] = []
    const runTimes: Date[] = []
    const statuses: string[] = []
    plans.forEach((plan, i) => {
      const jobId = (jobs[i] as JobRecord).id
      for (const runTime of plan.run) { jobIds.push(jobId); runTimes.push(runTime); statuses.push('running') }
      for (const runTime of plan.missed) { jobIds.push(jobId); runTimes.push(runTime); statuses.push('missed') }
      for (const runTime of plan.maxInstances) { jobIds.push(jobId); runTimes.push(runTime); statuses.push('max_instances') }
    })
    // One statement: advance the jobs, and insert their executions (a conflict on the
    // occurrence key means another process has that occurrence: no row comes back for it).
    const inserted = (await tx.query(
      `WITH advanced AS (
         UPDATE scheduler_job AS j SET next_run_time = u.next_run_time, next_fire_time = u.next_fire_time, last_error = u.last_error
         FROM unnest($7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[]) AS u(id, next_run_time, next_fire_time, last_error)
         WHERE j.id = u.id)
       INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, finished_at, owner, lease_until)
       SELECT t.job_id, t.run_time, t.status,
              CASE WHEN t.status = 'running' THEN $4::timestamptz END,
              CASE WHEN t.status <> 'running' THEN $4::timestamptz END,
              $5, CASE WHEN t.status = 'running' THEN $4::timestamptz + make_interval(secs => $6 / 1000.0) END
       FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS t(job_id, run_time, status)
       ON CONFLICT (job_id, run_time, attempt) DO NOTHING
       RETURNING ${EXECUTION_COLUMNS}`,
      [
        jobIds, runTimes, statuses, now, options.owner, options.leaseMs,
        jobs.map((job) => job.id), plans.map((plan) => plan.nextRunTime),
        plans.map((plan) => plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime), plans.map((plan) => plan.lastError ?? null)
      ]
    )).map(rowToExecution)
    return [...started, ...groupClaims(jobs, plans, jobIds, runTimes, inserted)]
  }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
}

/**
 * The leader fence ($3 lock key, $4 node id, $5 backend pid, $6 stale milliseconds): the leader row
 * still names this node and its lock session, and its heartbeat (written on the database clock, so
 * read against `now()`, never a test clock) is younger than `leaderStaleMs`. The row is taken
 * `FOR SHARE`: a standby's takeover, which rewrites it, waits until this claim commits.
 */
/**
 * True for a queued retry (attempt ≥ 2, row alias `e`) that must keep waiting: its job is paused,
 * or (when `dueOnly`, only once the retry is due) the job has no free instance slot at `now`. A
 * first attempt (`runJob`) is never blocked here: it is started or recorded `max_instances`. Used
 * by the claim (a blocked retry is not even locked, so waiting retries never crowd out startable
 * runs) and by the wake-up (a blocked retry does not wake the loop over and over).
 */
function retryBlocked (e: string, now: string, dueOnly: boolean): string {
  return `(${e}.attempt > 1 AND EXISTS (
    SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND (j.paused OR (${dueOnly ? `coalesce(${e}.start_after, ${e}.run_time) <= ${now} AND ` : ''}
      (SELECT count(*) FROM scheduler_job_execution r WHERE r.job_id = j.id AND ${liveRunning('r.', now)}) >= j.max_instances))))`
}

/** A queued run as the claim's first statement returns it. */
interface QueuedRun {
  id: number
  job_id: string
  attempt: number
}

const FENCE_SQL = `SELECT 1 FROM scheduler_leader
  WHERE lock_key = $3 AND node_id = $4 AND backend_pid = $5 AND heartbeat_at > now() - make_interval(secs => $6 / 1000.0)
  FOR SHARE`

export async function queueRun (db: SqlClient, jobId: string, now: Date | null, audit?: AuditContext): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ now: unknown }>(
      `SELECT date_trunc('milliseconds', ${nowParam(2)}) AS now FROM scheduler_job WHERE id = $1 FOR SHARE`,
      [jobId, now]
    )
    if (job === undefined) return null
    for (let runTime = toDate(job.now).getTime(); ; runTime += 1) {
      const [row] = await tx.query(
        `INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ($1, $2, 'queued')
         ON CONFLICT (job_id, run_time, attempt) DO NOTHING RETURNING ${EXECUTION_COLUMNS}`,
        [jobId, new Date(runTime)]
      )
      if (row !== undefined) {
        const queued = rowToExecution(row)
        await auditRun(tx, audit, queued)
        return queued
      }
    }
  })
}

export async function claimImmediateRun (db: SqlClient, jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ max_instances: number, now: unknown }>(
      `SELECT max_instances, date_trunc('milliseconds', ${nowParam(2)}) AS now FROM scheduler_job WHERE id = $1 FOR UPDATE`,
      [jobId, options.now]
    )
    if (job === undefined) return null
    const running = (await runningCounts(tx, [jobId], toDate(job.now))).get(jobId) ?? 0
    const status = running < job.max_instances ? 'running' : 'max_instances'
    // An occurrence is keyed by (job_id, run_time): a run-now that lands on the same
    // millisecond as another occurrence of the job moves one millisecond later. Only the key
    // moves: started_at / finished_at / lease_until stay on the real time ($6).
    const now = toDate(job.now)
    for (let runTime = now.getTime(); ; runTime += 1) {
      const [row] = await tx.query(
        `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, finished_at, owner, lease_until)
         VALUES ($1, $2, $3, CASE WHEN $3 = 'running' THEN $6::timestamptz END, CASE WHEN $3 <> 'running' THEN $6::timestamptz END,
                 $4, CASE WHEN $3 = 'running' THEN $6::timestamptz + make_interval(secs => $5 / 1000.0) END)
         ON CONFLICT (job_id, run_time, attempt) DO NOTHING
         RETURNING ${EXECUTION_COLUMNS}`,
        [jobId, new Date(runTime), status, options.owner, options.leaseMs, now]
      )
      if (row !== undefined) {
        const started = rowToExecution(row)
        await auditRun(tx, options.audit, started)
        return started
      }
    }
  })
}

/** Live running executions per job: `running` with a lease not yet expired at `now`. */
async function runningCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, running: number }>(
    `SELECT job_id, count(*)::integer AS running FROM scheduler_job_execution
     WHERE ${liveRunning('', '$2')} AND job_id = ANY($1::text[]) GROUP BY job_id`,
    [jobIds, now]
  )
  return new Map(rows.map((row) => [row.job_id, row.running]))
}

/**
 * Starts queued runs (claim step 1): locks their jobs (skipping jobs another claimer holds; their
 * runs stay queued), then per run, oldest first: `running` while the job has a free instance
 * slot, else `max_instances` (a retry instead stays queued, as it does while its job is paused),
 * or `abandoned` when the job is gone.
 */
async function startQueued (
  tx: SqlExecutor, queued: QueuedRun[], now: Date, options: ClaimOptions
): Promise<ClaimedJob[]> {
  if (queued.length === 0) return []
  const jobRows = await tx.query(
    `SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = ANY($1::text[]) FOR UPDATE SKIP LOCKED`,
    [[...new Set(queued.map((run) => run.job_id))]]
  )
  const jobs = new Map(jobRows.map((row) => [row.id as string, rowToJob(row)]))
  const gone = new Set(queued.map((run) => run.job_id).filter((jobId) => !jobs.has(jobId)))
  const locked = new Set((await tx.query<{ id: string }>('SELECT id FROM scheduler_job WHERE id = ANY($1::text[])', [[...gone]])).map((row) => row.id))
  const running = await runningCounts(tx, [...jobs.keys()], now)
  const ids: number[] = []
  const statuses: string[] = []
  const exceptions: Array<string | null> = []
  for (const run of queued) {
    const job = jobs.get(run.job_id)
    if (job === undefined && locked.has(run.job_id)) continue // held by another claimer: stays queued
    const count = running.get(run.job_id) ?? 0
    const retry = run.attempt > 1
    if (job !== undefined && retry && (job.paused || count >= job.maxInstances)) continue // a retry waits
    const status = job === undefined ? 'abandoned' : count < job.maxInstances ? 'running' : 'max_instances'
    if (status === 'running') running.set(run.job_id, count + 1)
    ids.push(Number(run.id))
    statuses.push(status)
    exceptions.push(status !== 'abandoned' ? null : retry ? REMOVED_BEFORE_RETRY : REMOVED_BEFORE_RUN)
  }
  if (ids.length === 0) return []
  const rows = (await tx.query(
    `UPDATE scheduler_job_execution AS e
     SET status = u.status, owner = $3,
         started_at = CASE WHEN u.status = 'running' THEN $4::timestamptz END,
         finished_at = CASE WHEN u.status <> 'running' THEN $4::timestamptz END,
         lease_until = CASE WHEN u.status = 'running' THEN $4::timestamptz + make_interval(secs => $5 / 1000.0) END,
         exception = u.exception
     FROM unnest($1::bigint[], $2::text[], $6::text[]) AS u(id, status, exception)
     WHERE e.id = u.id AND e.status = 'queued'
     RETURNING ${EXECUTION_COLUMNS_OF_E}`,
    [ids, statuses, options.owner, now, options.leaseMs, exceptions]
  )).map(rowToExecution)
  const claims = new Map<string, ClaimedJob>()
  for (const execution of rows) {
    const job = jobs.get(execution.jobId)
    if (job === undefined) continue // abandoned: its job is gone, nothing to run
    const claim = claims.get(job.id) ?? { job, running: [], recorded: [], claimedElsewhere: [], coalesced: 0, flagged: null }
    claims.set(job.id, claim)
    if (execution.status === 'running') claim.running.push(execution)
    else claim.recorded.push(execution)
  }
  return [...claims.values()]
}

/** Sorts inserted rows back to their jobs; planned occurrences with no inserted row were claimed elsewhere. */
function groupClaims (
  jobs: JobRecord[], plans: ClaimPlan[], jobIds: string[], runTimes: Date[], inserted: ExecutionRecord[]
): ClaimedJob[] {
  const claims = new Map<string, ClaimedJob>(jobs.map((job, i) => [job.id, {
    job, running: [], recorded: [], claimedElsewhere: [], coalesced: plans[i]?.coalesced ?? 0, flagged: plans[i]?.lastError ?? null, catchUp: true
  }]))
  const insertedKeys = new Set<string>()
  for (const execution of inserted) {
    insertedKeys.add(`${execution.jobId}\u0000${execution.runTime.getTime()}`)
    const claim = claims.get(execution.jobId) as ClaimedJob
    if (execution.status === 'running') claim.running.push(execution)
    else claim.recorded.push(execution)
  }
  jobIds.forEach((jobId, i) => {
    const runTime = runTimes[i] as Date
    if (!insertedKeys.has(`${jobId}\u0000${runTime.getTime()}`)) claims.get(jobId)?.claimedElsewhere.push(runTime)
  })
  return [...claims.values()]
}
