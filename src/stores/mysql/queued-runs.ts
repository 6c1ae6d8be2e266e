/**
 * The execute-step statements of the MySQL/MariaDB job store (as `postgresql/queued-runs.ts`):
 * workers start the `queued` executions of their tasks, oldest run time first, locked with
 * `FOR UPDATE SKIP LOCKED`, and find when the next one may start.
 *
 * The conditions that keep a run waiting (its job has no free slot, or it is a retry of a paused
 * job) are subqueries of the locking statement, not CTEs: a locking read does not lock the rows its
 * nested subqueries read (MySQL docs, "Locking Reads"), so only the queued rows are locked. Max
 * instances holds cluster-wide: the runs' jobs are locked (`FOR UPDATE SKIP LOCKED`) before their
 * live running executions are counted, in a statement of its own.
 */
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import type { ClaimedJob, NextQueuedStart, QueuedClaimOptions } from '../job-store.js'
import { rowToExecution, rowToJob } from '../rows.js'
import { decide, groupStarted, type Decision, type QueuedRun } from '../postgresql/queued-runs.js'
import { list, MYSQL_EXECUTION_COLUMNS, MYSQL_JOB_COLUMNS, NOW, plusMs, valuesTable } from './sql.js'

/** The jobs with no free instance slot at the time `now` (an SQL expression). */
const FULL_JOBS = (now: string): string => `SELECT r.job_id FROM scheduler_job_execution r JOIN scheduler_job j ON j.id = r.job_id
  WHERE r.status = 'running' AND r.lease_until >= ${now} GROUP BY r.job_id, j.max_instances HAVING count(*) >= j.max_instances`

/** A retry (attempt ≥ 2) of a paused job: it waits. */
const PAUSED_RETRY = (e: string): string => `(${e}.attempt > 1 AND EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND j.paused = TRUE))`

/**
 * Queued rows a worker with the tasks `?` may take (two values, the task list twice): its tasks,
 * the job's task now, rows without a task, rows whose job is gone (as PostgreSQL's `ofTasks`).
 */
const OF_TASKS = (e: string): string =>
  `(${e}.task IN (?) OR ${e}.task IS NULL OR NOT EXISTS (SELECT 1 FROM scheduler_job j WHERE j.id = ${e}.job_id AND COALESCE(j.task NOT IN (?), TRUE)))`

export async function getNextQueuedStart (db: SqlExecutor, tasks: readonly string[]): Promise<NextQueuedStart> {
  const names = list(tasks)
  const [row] = await db.query<{ next: unknown, waiting: number, now: unknown }>(
    `SELECT (SELECT min(COALESCE(e.start_after, e.run_time)) FROM scheduler_job_execution e
             WHERE e.status = 'queued' AND ${OF_TASKS('e')} AND NOT ${PAUSED_RETRY('e')}
               AND NOT (COALESCE(e.start_after, e.run_time) <= UTC_TIMESTAMP(3) AND e.job_id IN (${FULL_JOBS('UTC_TIMESTAMP(3)')}))) AS next,
            EXISTS (SELECT 1 FROM scheduler_job_execution e
                    WHERE e.status = 'queued' AND ${OF_TASKS('e')} AND e.job_id IN (${FULL_JOBS('UTC_TIMESTAMP(3)')})) AS waiting,
            UTC_TIMESTAMP(3) AS now`,
    [names, names, names, names]
  )
  return { nextStartTime: toDateOrNull(row?.next), waitingForSlot: Number(row?.waiting) === 1, now: toDate(row?.now) }
}

/** Starts up to `limit` queued runs of `tasks` in one transaction, oldest run time first (as PostgreSQL's `claimQueuedRuns`). */
export async function claimQueuedRuns (db: SqlClient, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  return db.transaction(async (tx) => {
    const [head] = await tx.query<{ now: unknown }>(`SELECT ${NOW} AS now`, [options.now])
    const now = toDate(head?.now)
    const names = list(options.tasks)
    const queued = await tx.query<QueuedRun>(
      `SELECT e.id, e.job_id, e.attempt, e.run_time, e.start_after FROM scheduler_job_execution e
       WHERE e.status = 'queued' AND ${OF_TASKS('e')} AND (e.start_after IS NULL OR e.start_after <= ?)
         AND NOT ${PAUSED_RETRY('e')} AND e.job_id NOT IN (${FULL_JOBS('?')})
       ORDER BY e.run_time, e.id LIMIT ? FOR UPDATE SKIP LOCKED`,
      [names, names, now, now, options.limit]
    )
    if (queued.length === 0) return []
    const jobIds = [...new Set(queued.map((run) => run.job_id))]
    const jobRows = await tx.query(`SELECT ${MYSQL_JOB_COLUMNS} FROM scheduler_job WHERE id IN (?) FOR UPDATE SKIP LOCKED`, [jobIds])
    return startQueued(tx, queued, jobRows, now, options)
  }, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
}

/** Decides and writes each locked queued run; `jobRows` are the runs' jobs this claim locked. */
async function startQueued (tx: SqlExecutor, queued: QueuedRun[], jobRows: Array<Record<string, unknown>>, now: Date, options: QueuedClaimOptions): Promise<ClaimedJob[]> {
  const jobs = new Map(jobRows.map((row) => [row.id as string, rowToJob(row)]))
  const gone = new Set(queued.map((run) => run.job_id).filter((jobId) => !jobs.has(jobId)))
  // A job not returned is gone, or locked by another claimer (SKIP LOCKED): tell them apart.
  const lockedElsewhere = gone.size === 0
    ? new Set<string>()
    : new Set((await tx.query<{ id: string }>('SELECT id FROM scheduler_job WHERE id IN (?)', [[...gone]])).map((row) => row.id))
  const running = await liveRunningCounts(tx, [...jobs.keys()], now)
  const runnable = new Set(options.tasks)
  const decided: Array<{ run: QueuedRun, decision: Decision }> = []
  for (const run of queued) {
    if (lockedElsewhere.has(run.job_id)) continue
    const decision = decide(run, jobs.get(run.job_id), running.get(run.job_id) ?? 0, runnable, now)
    if (decision === null) continue
    if (decision.status === 'running') running.set(run.job_id, (running.get(run.job_id) ?? 0) + 1)
    decided.push({ run, decision })
  }
  const rerouted = decided.filter(({ decision }) => decision.status === 'rerouted')
  if (rerouted.length > 0) {
    const table = valuesTable(['id', 'task'], rerouted.map(({ run, decision }) => [Number(run.id), (decision as { task: string }).task]))
    await tx.query(`UPDATE scheduler_job_execution e JOIN (${table.sql}) u ON e.id = u.id SET e.task = u.task WHERE e.status = 'queued'`, table.values)
  }
  const written = decided.filter(({ decision }) => decision.status !== 'rerouted')
  if (written.length === 0) return []
  const table = valuesTable(['id', 'status', 'exception'], written.map(({ run, decision }) => [Number(run.id), decision.status, (decision as { exception: string | null }).exception]))
  await tx.query(
    `UPDATE scheduler_job_execution e JOIN (${table.sql}) u ON e.id = u.id
     SET e.owner = ?,
         e.started_at = CASE WHEN u.status = 'running' THEN ? END,
         e.finished_at = CASE WHEN u.status <> 'running' THEN ? END,
         e.lease_until = CASE WHEN u.status = 'running' THEN ${plusMs('?')} END,
         e.exception = u.exception,
         e.status = u.status
     WHERE e.status = 'queued'`,
    [...table.values, options.owner, now, now, now, options.leaseMs]
  )
  const rows = (await tx.query(`SELECT ${MYSQL_EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE id IN (?) ORDER BY run_time, id`,
    [written.map(({ run }) => Number(run.id))])).map(rowToExecution)
  return groupStarted(rows, jobs)
}

/** Live running executions per job: `running` with a lease not yet expired at `now`. */
async function liveRunningCounts (tx: SqlExecutor, jobIds: string[], now: Date): Promise<Map<string, number>> {
  const rows = await tx.query<{ job_id: string, running: number }>(
    `SELECT job_id, count(*) AS running FROM scheduler_job_execution
     WHERE status = 'running' AND lease_until >= ? AND job_id IN (?) GROUP BY job_id`,
    [now, list(jobIds)]
  )
  return new Map(rows.map((row) => [row.job_id, Number(row.running)]))
}
