/**
 * The execute-step statements of the PostgreSQL (and PGlite) job store (DESIGN.md "Scheduling
 * protocol" 3): every process with `execute: true` starts the `queued` executions of the tasks it
 * has registered, oldest run time first, locked with `FOR UPDATE SKIP LOCKED` so workers racing for
 * the queue never wait for or see each other's rows; and finds when the next one may start.
 *
 * Max instances holds cluster-wide: a run's job row is locked (`FOR UPDATE SKIP LOCKED`) before its
 * live running executions are counted, in a statement of its own (READ COMMITTED: a fresh snapshot
 * after the lock), so two workers never both take the last slot.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { REMOVED_BEFORE_RETRY, REMOVED_BEFORE_RUN, type ClaimedJob, type ExecutionRecord, type JobRecord, type NextQueuedStart, type QueuedClaimOptions } from '../job-store.js'
import { EXECUTION_COLUMNS_OF_E, JOB_COLUMNS, liveRunning, nowParam, rowToExecution, rowToJob } from '../rows.js'

/** A queued run as the claim's first statement returns it. */
export interface QueuedRun {
  id: number
  job_id: string
  attempt: number
  run_time: string
  start_after: string | null
}

/** What the start step decided for one queued run. */
export type Decision =
  | { status: 'running' | 'missed', exception: null }
  | { status: 'abandoned', exception: string }
  | { status: 'rerouted', task: string }

/**
 * The jobs with no free instance slot at `now` (as many live running executions as `max_instances`),
 * as a CTE named `full_jobs`: computed once per statement from the running rows (their partial
 * index), so the cost of a claim does not grow with the number of queued rows.
 */
const FULL_JOBS = (now: string): string => `full_jobs AS (
  SELECT r.job_id FROM scheduler_job_execution r JOIN scheduler_job j ON j.id = r.job_id
  WHERE ${liveRunning('r.', now)} GROUP BY r.job_id, j.max_instances HAVING count(*) >= j.max_instances)`

/**
 * True for a queued run (row alias `e`) that must keep waiting: a retry (attempt ≥ 2) whose job is
 * paused, or (when `dueOnly`, only once the run is due) a run whose job is in `full_jobs`. Such a
 * run is not even locked by the claim (waiting runs never crowd out startable ones) and does not
 * wake a worker over and over. A run whose job is gone is not blocked: it is picked and recorded
 * `abandoned`. (PostgreSQL evaluates the cheap `attempt > 1` before the paused lookup.)
 */
function runBlocked (e: string, now: string, dueOnly: boolean): string {
  const full = `${e}.job_id IN (SELECT job_id FROM full_jobs)`
  return `((${e}.attempt > 1 AND EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND j.paused))
    OR ${dueOnly ? `(coalesce(${e}.start_after, ${e}.run_time) <= ${now} AND ${full})` : full})`
}

/**
 * Queued rows a worker with the tasks `$n` (text[]) may take: rows of those tasks, rows whose job's
 * task is one of them now (the job's task changed after the row was queued), rows queued without a
 * task (before schema version 7), and rows whose job is gone (any worker records them
 * `abandoned`). The `NOT EXISTS` reads "no job of another task": its job is missing or has one of them.
 */
const ofTasks = (e: string, n: number): string =>
  `(${e}.task = ANY($${n}::text[]) OR ${e}.task IS NULL OR NOT EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND j.task <> ALL($${n}::text[])))`

export async function getNextQueuedStart (db: SqlExecutor, tasks: readonly string[]): Promise<NextQueuedStart> {
  const [row] = await db.query<{ next: unknown, waiting: boolean, now: unknown }>(
    `WITH ${FULL_JOBS('now()')}
     SELECT (SELECT min(coalesce(e.start_after, e.run_time)) FROM scheduler_job_execution e
             WHERE e.status = 'queued' AND ${ofTasks('e', 1)} AND NOT ${runBlocked('e', 'now()', true)}) AS next,
            EXISTS (SELECT 1 FROM scheduler_job_execution e
                    WHERE e.status = 'queued' AND ${ofTasks('e', 1)} AND e.job_id IN (SELECT job_id FROM full_jobs)) AS waiting,
            now() AS now`,
    [tasks]
  )
  return { nextStartTime: toDateOrNull(row?.next), waitingForSlot: row?.waiting === true, now: toDate(row?.now) }
}

/**
 * Starts up to `limit` queued runs of `tasks` in one transaction, oldest run time first. Per run:
 * `abandoned` when its job is gone; left queued with its job's task when the job's task changed to
 * one this worker lacks; `missed` when it is a first attempt later than the job's misfire grace time
 * (measured from its jittered run time, as APScheduler's `run_job` does when a pool thread picks it up);
 * `running` under this worker's lease when the job has a free instance slot; otherwise it waits.
 */
export async function claimQueuedRuns (db: SqlClient, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    // One statement locks the queued rows and then their jobs (a run whose job another claimer
    // holds is skipped below and stays queued): one round trip fewer per claim.
    const [head] = await tx.query<{ now: unknown, queued: QueuedRun[] | string | null, jobs: Array<Record<string, unknown>> | string | null }>(
      `WITH ${FULL_JOBS(nowParam(1))},
       queued AS (
         SELECT e.id, e.job_id, e.attempt, e.run_time, e.start_after FROM scheduler_job_execution e
         WHERE e.status = 'queued' AND ${ofTasks('e', 3)} AND (e.start_after IS NULL OR e.start_after <= ${nowParam(1)})
           AND NOT ${runBlocked('e', nowParam(1), false)}
         ORDER BY e.run_time, e.id LIMIT $2 FOR UPDATE OF e SKIP LOCKED),
       locked AS (
         SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id IN (SELECT job_id FROM queued) FOR UPDATE SKIP LOCKED)
       SELECT ${nowParam(1)} AS now,
              (SELECT json_agg(json_build_object('id', id, 'job_id', job_id, 'attempt', attempt, 'run_time', run_time, 'start_after', start_after)) FROM queued) AS queued,
              (SELECT json_agg(locked) FROM locked) AS jobs`,
      [options.now, options.limit, options.tasks]
    )
    // json arrives parsed from pg and PGlite; text is tolerated for drivers that leave it raw.
    const queued = (typeof head?.queued === 'string' ? JSON.parse(head.queued) : head?.queued ?? []) as QueuedRun[]
    if (queued.length === 0) return []
    const jobRows = (typeof head?.jobs === 'string' ? JSON.parse(head.jobs) : head?.jobs ?? []) as Array<Record<string, unknown>>
    return startQueued(tx, queued, jobRows, toDate(head?.now), options)
  }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
}

/** Decides and writes each locked queued run; `jobRows` are the runs' jobs this claim locked. */
async function startQueued (tx: SqlExecutor, queued: QueuedRun[], jobRows: Array<Record<string, unknown>>, now: Date, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  const jobs = new Map(jobRows.map((row) => [row.id as string, rowToJob(row)]))
  const gone = new Set(queued.map((run) => run.job_id).filter((jobId) => !jobs.has(jobId)))
  // A job not returned is gone, or locked by another claimer (SKIP LOCKED): tell them apart.
  const lockedElsewhere = gone.size === 0
    ? new Set<string>()
    : new Set((await tx.query<{ id: string }>('SELECT id FROM scheduler_job WHERE id = ANY($1::text[])', [[...gone]])).map((row) => row.id))
  const running = await liveRunningCounts(tx, [...jobs.keys()], now)
  const runnable = new Set(options.tasks)
  const decided: Array<{ run: QueuedRun, decision: Decision }> = []
  for (const run of queued) {
    if (lockedElsewhere.has(run.job_id)) continue // its job is held by another claimer: stays queued
    const decision = decide(run, jobs.get(run.job_id), running.get(run.job_id) ?? 0, runnable, now)
    if (decision === null) continue
    if (decision.status === 'running') running.set(run.job_id, (running.get(run.job_id) ?? 0) + 1)
    decided.push({ run, decision })
  }
  const rerouted = decided.filter(({ decision }) => decision.status === 'rerouted')
  if (rerouted.length > 0) {
    await tx.query(
      'UPDATE scheduler_job_execution AS e SET task = u.task FROM unnest($1::bigint[], $2::text[]) AS u(id, task) WHERE e.id = u.id AND e.status = \'queued\'',
      [rerouted.map(({ run }) => Number(run.id)), rerouted.map(({ decision }) => (decision as { task: string }).task)]
    )
  }
  const written = decided.filter(({ decision }) => decision.status !== 'rerouted')
  if (written.length === 0) return []
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
    [
      written.map(({ run }) => Number(run.id)), written.map(({ decision }) => decision.status), options.owner, now, options.leaseMs,
      written.map(({ decision }) => (decision as { exception: string | null }).exception)
    ]
  )).map(rowToExecution)
  return groupStarted(rows, jobs)
}

/** The start step's rule for one queued run; null: it waits (see {@link claimQueuedRuns}). */
export function decide (run: QueuedRun, job: JobRecord | undefined, running: number, runnable: ReadonlySet<string>, now: Date): Decision | null {
  const retry = run.attempt > 1
  if (job === undefined) return { status: 'abandoned', exception: retry ? REMOVED_BEFORE_RETRY : REMOVED_BEFORE_RUN }
  if (!runnable.has(job.task)) return { status: 'rerouted', task: job.task }
  // From the jittered instant the plan step wrote as the first occurrence's start_after, as the planner measures it.
  const waitedMs = now.getTime() - toDate(run.start_after ?? run.run_time).getTime()
  if (!retry && job.misfireGraceTime !== null && waitedMs > job.misfireGraceTime * 1000) return { status: 'missed', exception: null }
  if (retry && job.paused) return null
  return running < job.maxInstances ? { status: 'running', exception: null } : null
}

/** Live running executions per job: `running` with a lease not yet expired at `now`. */
async function liveRunningCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, running: number }>(
    `SELECT job_id, count(*)::integer AS running FROM scheduler_job_execution
     WHERE ${liveRunning('', '$2')} AND job_id = ANY($1::text[]) GROUP BY job_id`,
    [jobIds, now]
  )
  return new Map(rows.map((row) => [row.job_id, row.running]))
}

/** The started and recorded rows by job (each started run is an instance of its own: no catch-up batch). */
export function groupStarted (rows: ExecutionRecord[], jobs: Map<string, JobRecord>): ClaimedJob[] {
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
