/**
 * The execute-step statements of the SQLite job store: the same functions and guarantees as
 * `postgresql/queued-runs.ts`. Where PostgreSQL locks queued rows and their jobs with `FOR UPDATE
 * SKIP LOCKED`, a claim here is one `BEGIN IMMEDIATE` transaction: it holds the database's write
 * lock from its first statement, so no other claim runs meanwhile and none is skipped; max
 * instances holds because the running rows are counted inside that transaction.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { REMOVED_BEFORE_RETRY, REMOVED_BEFORE_RUN, type ClaimedJob, type ExecutionRecord, type JobRecord, type NextQueuedStart, type QueuedClaimOptions } from '../job-store.js'
import { EXECUTION_COLUMNS, JOB_COLUMNS } from '../rows.js'
import { liveRunning, NOW_MS, nowParam, sqliteRowToExecution, sqliteRowToJob } from './sql.js'

/** A queued run as the claim's first statement returns it. */
interface QueuedRun {
  id: number
  job_id: string
  attempt: number
  run_time: unknown
  start_after: unknown
}

/** What the start step decided for one queued run. */
type Decision =
  | { status: 'running' | 'missed', exception: null }
  | { status: 'abandoned', exception: string }
  | { status: 'rerouted', task: string }

/** The jobs with no free instance slot at `now`, as a CTE named `full_jobs` (see `postgresql/queued-runs.ts`). */
const FULL_JOBS = (now: string): string => `full_jobs AS (
  SELECT r.job_id FROM scheduler_job_execution r JOIN scheduler_job j ON j.id = r.job_id
  WHERE ${liveRunning('r.', now)} GROUP BY r.job_id, j.max_instances HAVING count(*) >= j.max_instances)`

/** A queued run (alias `e`) that must keep waiting (see `postgresql/queued-runs.ts` `runBlocked`). */
function runBlocked (e: string, now: string, dueOnly: boolean): string {
  const full = `${e}.job_id IN (SELECT job_id FROM full_jobs)`
  return `((${e}.attempt > 1 AND EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND j.paused))
    OR ${dueOnly ? `(coalesce(${e}.start_after, ${e}.run_time) <= ${now} AND ${full})` : full})`
}

/** Queued rows a worker with the tasks `?n` (a JSON array) may take (see `postgresql/queued-runs.ts` `ofTasks`). */
const ofTasks = (e: string, n: number): string =>
  `(${e}.task IN (SELECT value FROM json_each(?${n})) OR ${e}.task IS NULL
    OR NOT EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND j.task NOT IN (SELECT value FROM json_each(?${n}))))`

export async function getNextQueuedStart (db: SqlExecutor, tasks: readonly string[]): Promise<NextQueuedStart> {
  const [row] = await db.query<{ next: unknown, waiting: number, now: unknown }>(
    `WITH clock AS (SELECT ${NOW_MS} AS now), ${FULL_JOBS('(SELECT now FROM clock)')}
     SELECT (SELECT min(coalesce(e.start_after, e.run_time)) FROM scheduler_job_execution e
             WHERE e.status = 'queued' AND ${ofTasks('e', 1)} AND NOT ${runBlocked('e', '(SELECT now FROM clock)', true)}) AS next,
            EXISTS (SELECT 1 FROM scheduler_job_execution e
                    WHERE e.status = 'queued' AND ${ofTasks('e', 1)} AND e.job_id IN (SELECT job_id FROM full_jobs)) AS waiting,
            (SELECT now FROM clock) AS now`,
    [[...tasks]]
  )
  return { nextStartTime: toDateOrNull(row?.next), waitingForSlot: Boolean(row?.waiting), now: toDate(row?.now) }
}

/** Starts up to `limit` queued runs of `tasks` in one transaction (see `postgresql/queued-runs.ts`). */
export async function claimQueuedRuns (db: SqlClient, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const [clock] = await tx.query<{ now: unknown }>(`SELECT ${nowParam(1)} AS now`, [options.now])
    const now = toDate(clock?.now)
    const queued = await tx.query<QueuedRun>(
      `WITH ${FULL_JOBS('?1')}
       SELECT e.id, e.job_id, e.attempt, e.run_time, e.start_after FROM scheduler_job_execution e
       WHERE e.status = 'queued' AND ${ofTasks('e', 3)} AND (e.start_after IS NULL OR e.start_after <= ?1)
         AND NOT ${runBlocked('e', '?1', false)}
       ORDER BY e.run_time, e.id LIMIT ?2`,
      [now, options.limit, [...options.tasks]]
    )
    if (queued.length === 0) return []
    const jobRows = await tx.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id IN (SELECT value FROM json_each(?1))`,
      [[...new Set(queued.map((run) => run.job_id))]]
    )
    return startQueued(tx, queued, jobRows, now, options)
  })
}

/**
 * Decides and writes each queued run (the updates find rows by id: `+e.status` keeps SQLite from
 * scanning every queued row per batch element through the status index, see sqlite/executions.ts); `jobRows` are the runs' jobs (a missing one is gone). */
async function startQueued (tx: SqlExecutor, queued: QueuedRun[], jobRows: Array<Record<string, unknown>>, now: Date, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  const jobs = new Map(jobRows.map((row) => [row.id as string, sqliteRowToJob(row)]))
  const running = await liveRunningCounts(tx, [...jobs.keys()], now)
  const runnable = new Set(options.tasks)
  const decided: Array<{ run: QueuedRun, decision: Decision }> = []
  for (const run of queued) {
    const decision = decide(run, jobs.get(run.job_id), running.get(run.job_id) ?? 0, runnable, now)
    if (decision === null) continue
    if (decision.status === 'running') running.set(run.job_id, (running.get(run.job_id) ?? 0) + 1)
    decided.push({ run, decision })
  }
  const rerouted = decided.filter(({ decision }) => decision.status === 'rerouted')
  if (rerouted.length > 0) {
    await tx.query(
      `UPDATE scheduler_job_execution AS e SET task = u.value ->> 1 FROM json_each(?1) AS u
       WHERE e.id = u.value ->> 0 AND +e.status = 'queued'`,
      [JSON.stringify(rerouted.map(({ run, decision }) => [Number(run.id), (decision as { task: string }).task]))]
    )
  }
  const written = decided.filter(({ decision }) => decision.status !== 'rerouted')
  if (written.length === 0) return []
  const rows = (await tx.query(
    `UPDATE scheduler_job_execution AS e
     SET status = u.value ->> 1, owner = ?2,
         started_at = CASE WHEN u.value ->> 1 = 'running' THEN ?3 END,
         finished_at = CASE WHEN u.value ->> 1 <> 'running' THEN ?3 END,
         lease_until = CASE WHEN u.value ->> 1 = 'running' THEN ?3 + ?4 END,
         exception = u.value ->> 2
     FROM json_each(?1) AS u
     WHERE e.id = u.value ->> 0 AND +e.status = 'queued'
     RETURNING ${EXECUTION_COLUMNS}`,
    [
      JSON.stringify(written.map(({ run, decision }) => [Number(run.id), decision.status, (decision as { exception: string | null }).exception])),
      options.owner, now, Math.round(options.leaseMs)
    ]
  )).map(sqliteRowToExecution).sort((a, b) => a.runTime.getTime() - b.runTime.getTime() || a.id - b.id)
  return groupStarted(rows, jobs)
}

/** The start step's rule for one queued run; null: it waits. */
function decide (run: QueuedRun, job: JobRecord | undefined, running: number, runnable: ReadonlySet<string>, now: Date): Decision | null {
  const retry = run.attempt > 1
  if (job === undefined) return { status: 'abandoned', exception: retry ? REMOVED_BEFORE_RETRY : REMOVED_BEFORE_RUN }
  if (!runnable.has(job.task)) return { status: 'rerouted', task: job.task }
  const waitedMs = now.getTime() - toDate(run.start_after ?? run.run_time).getTime()
  if (!retry && job.misfireGraceTime !== null && waitedMs > job.misfireGraceTime * 1000) return { status: 'missed', exception: null }
  if (retry && job.paused) return null
  return running < job.maxInstances ? { status: 'running', exception: null } : null
}

/** Live running executions per job at `now`. */
async function liveRunningCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, running: number }>(
    `SELECT job_id, count(*) AS running FROM scheduler_job_execution
     WHERE ${liveRunning('', '?2')} AND job_id IN (SELECT value FROM json_each(?1)) GROUP BY job_id`,
    [jobIds, now]
  )
  return new Map(rows.map((row) => [row.job_id, Number(row.running)]))
}

/** The started and recorded rows by job. */
function groupStarted (rows: ExecutionRecord[], jobs: Map<string, JobRecord>): ClaimedJob[] {
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
