/**
 * The `scheduler_job_execution` statements of the MySQL/MariaDB job store (as
 * `postgresql/executions.ts`): outcomes, leases, reaping, history queries and retention. Where
 * PostgreSQL writes in one statement (data-modifying CTEs with `RETURNING`), MySQL locks the rows
 * (`SELECT … FOR UPDATE`), writes them and reads them back in one transaction: the same effects,
 * atomically, in a few round trips.
 */
import { atomically, toDate, type SqlClient, type SqlExecutor } from '../../sql/sql-client.js'
import { SUPERSEDED_BY_LATE_SUCCESS, type ExecutionOutcome, type ExecutionRecord, type RecentExecutionStats } from '../job-store.js'
import { historyQueries } from '../history-queries.js'
import { recentStats } from '../recent-stats.js'
import { rowToExecution } from '../rows.js'
import { notifyQueued } from './claim.js'
import { affectedRows, list, minusMs, MYSQL_EXECUTION_COLUMNS, MYSQL_SQL, NOW, placeholders, plusMs, valuesTable } from './sql.js'

/** Outcomes after which the occurrence may get another attempt (`ExecutionOutcome.retryDelayMs`). */
const RETRIED_STATUSES = new Set(['error', 'timeout', 'abandoned'])

/** A locked row as the outcome and reaping steps read it, with its job's current task and retry settings. */
interface LockedRow { id: number, job_id: string, run_time: Date, attempt: number, start_after: Date | null, status: string, late_status: string | null, task: string | null, job_task: string | null, recover: boolean | number | null, retry: unknown, now: Date }

const LOCKED_COLUMNS = `id, job_id, run_time, attempt, start_after, status, late_status, task,
  (SELECT j.task FROM scheduler_job j WHERE j.id = e.job_id) AS job_task,
  (SELECT j.recover FROM scheduler_job j WHERE j.id = e.job_id) AS recover,
  (SELECT j.retry FROM scheduler_job j WHERE j.id = e.job_id) AS retry`

export async function finishExecutions (db: SqlExecutor, outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
  if (outcomes.length === 0) return []
  const rows = await atomically(db, async (tx) => {
    const locked = await tx.query<LockedRow>(
      `SELECT ${LOCKED_COLUMNS}, ${NOW} AS now FROM scheduler_job_execution e WHERE id IN (?) FOR UPDATE`, [now, outcomes.map(({ id }) => id)])
    if (locked.length === 0) return []
    const clock = toDate(locked[0]?.now).getTime()
    const byId = new Map(locked.map((row) => [Number(row.id), row]))
    // Each row ends at `at`: the write's time less how long its outcome waited to be written.
    const at = (outcome: ExecutionOutcome): Date => new Date(clock - Math.max(outcome.waitedMs ?? 0, 0))
    const finished = outcomes.filter(({ id }) => byId.get(id)?.status === 'running')
    const late = outcomes.filter(({ id }) => byId.get(id)?.status === 'abandoned' && byId.get(id)?.late_status === null)
    if (finished.length > 0) {
      const table = valuesTable(['id', 'status', 'finished_at', 'exception', 'traceback', 'duration_ms', 'result', 'logs', 'started_at', 'next_attempt_at'],
        finished.map(({ id, outcome }) => {
          const end = at(outcome)
          const retry = RETRIED_STATUSES.has(outcome.status) && outcome.retryDelayMs !== undefined && outcome.retryDelayMs !== null
          return [id, outcome.status, end, outcome.exception ?? null, outcome.traceback ?? null, outcome.durationMs ?? null, outcome.resultJson ?? null,
            outcome.logsJson ?? null, outcome.durationMs === undefined || outcome.durationMs === null ? null : new Date(end.getTime() - outcome.durationMs),
            retry ? new Date(end.getTime() + (outcome.retryDelayMs as number)) : null]
        }))
      await tx.query(
        `UPDATE scheduler_job_execution e JOIN (${table.sql}) u ON e.id = u.id
         SET e.status = u.status, e.finished_at = u.finished_at, e.lease_until = NULL, e.exception = u.exception, e.traceback = u.traceback,
             e.duration_ms = u.duration_ms, e.result = u.result, e.logs = u.logs, e.started_at = COALESCE(u.started_at, e.started_at),
             e.next_attempt_at = u.next_attempt_at`,
        table.values
      )
      // A failed attempt with a retry delay: its successor, queued in the same transaction.
      const retries = finished.filter(({ outcome }) => RETRIED_STATUSES.has(outcome.status) && outcome.retryDelayMs !== undefined && outcome.retryDelayMs !== null)
      await insertNextAttempts(tx, retries.map(({ id, outcome }) => ({ row: byId.get(id) as LockedRow, startAfter: new Date(at(outcome).getTime() + (outcome.retryDelayMs as number)) })))
    }
    if (late.length > 0) {
      const table = valuesTable(['id', 'status', 'finished_at', 'exception'], late.map(({ id, outcome }) => [id, outcome.status, at(outcome), outcome.exception ?? null]))
      await tx.query(
        `UPDATE scheduler_job_execution e JOIN (${table.sql}) u ON e.id = u.id
         SET e.late_status = u.status, e.late_finished_at = u.finished_at, e.late_exception = u.exception`, table.values)
      // A late success supersedes the queued retry of its occurrence.
      for (const { id, outcome } of late.filter(({ outcome }) => outcome.status === 'success')) {
        const row = byId.get(id) as LockedRow
        await tx.query(
          `UPDATE scheduler_job_execution SET status = 'abandoned', finished_at = ?, exception = ?
           WHERE job_id = ? AND run_time = ? AND attempt = ? AND status = 'queued'`,
          [at(outcome), SUPERSEDED_BY_LATE_SUCCESS, row.job_id, row.run_time, row.attempt + 1])
      }
    }
    const written = [...finished, ...late].map(({ id }) => id)
    if (written.length === 0) return []
    // A finished run frees an instance slot: wake idle workers when its job has queued runs
    // waiting (asked in the read-back, one round trip fewer; the bump is seen at commit anyway).
    const finishedJobs = list(finished.map(({ id }) => (byId.get(id) as LockedRow).job_id))
    const read = await tx.query<Record<string, unknown> & { waiting: number }>(
      `SELECT ${MYSQL_EXECUTION_COLUMNS},
              EXISTS (SELECT 1 FROM scheduler_job_execution q WHERE q.status = 'queued' AND q.job_id IN (?)) AS waiting
       FROM scheduler_job_execution WHERE id IN (?)`, [finishedJobs, written])
    if (Number(read[0]?.waiting) === 1) await notifyQueued(tx)
    return read
  })
  const byId = new Map(rows.map((row) => { const execution = rowToExecution(row); return [execution.id, execution] }))
  return outcomes.map(({ id }) => byId.get(id) ?? null)
}

/** A job's `retry.attempts` (1 without a policy); the scalar subquery may hand the json over as text. */
function attemptsOf (retry: unknown): number {
  const policy = (typeof retry === 'string' ? JSON.parse(retry) : retry) as { attempts?: unknown } | null
  return Number(policy?.attempts ?? 1)
}

/**
 * Inserts the next attempt of each row, `queued` until `startAfter` (never before the attempt's own
 * `start_after`: a run claimed ahead, cut off before its time), with its job's task (else its
 * own); an existing one is kept.
 */
async function insertNextAttempts (tx: SqlExecutor, next: Array<{ row: LockedRow, startAfter: Date }>): Promise<void> {
  if (next.length === 0) return
  const notBefore = (row: LockedRow, at: Date): Date => row.start_after !== null && toDate(row.start_after) > at ? toDate(row.start_after) : at
  await tx.query(
    `INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status, start_after, task) VALUES ${next.map(() => placeholders(6)).join(', ')}
     ON DUPLICATE KEY UPDATE id = id`,
    next.flatMap(({ row, startAfter }) => [row.job_id, row.run_time, row.attempt + 1, 'queued', notBefore(row, startAfter), row.job_task ?? row.task])
  )
}

/** Renews leases from now, or from a run claimed ahead's `start_after` while it waits for it. */
export async function extendLeases (db: SqlExecutor, owner: string, ids: number[], leaseMs: number, now: Date | null): Promise<number[]> {
  if (ids.length === 0) return []
  return atomically(db, async (tx) => {
    const rows = await tx.query<{ id: unknown }>(
      `SELECT id FROM scheduler_job_execution WHERE id IN (?) AND owner = ? AND status = 'running' AND lease_until >= ${NOW} FOR UPDATE`,
      [ids, owner, now])
    if (rows.length === 0) return []
    const extended = rows.map((row) => Number(row.id))
    // MySQL's GREATEST is NULL when any argument is (PostgreSQL's skips NULLs): hence the COALESCE.
    await tx.query(`UPDATE scheduler_job_execution SET lease_until = ${plusMs(`GREATEST(${NOW}, COALESCE(start_after, ${NOW}))`)} WHERE id IN (?)`,
      [now, now, leaseMs, extended])
    return extended
  })
}

/** `JobStore.requeueExecutions`: waiting runs claimed ahead go back to `queued`; bumps the queued counter (seen at commit). */
export async function requeueExecutions (db: SqlExecutor, owner: string, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return []
  return atomically(db, async (tx) => {
    const rows = await tx.query<{ id: unknown }>(
      "SELECT id FROM scheduler_job_execution WHERE id IN (?) AND owner = ? AND status = 'running' AND start_after IS NOT NULL FOR UPDATE",
      [ids, owner])
    if (rows.length === 0) return []
    const requeued = rows.map((row) => Number(row.id))
    await tx.query("UPDATE scheduler_job_execution SET status = 'queued', owner = NULL, started_at = NULL, lease_until = NULL WHERE id IN (?)", [requeued])
    await notifyQueued(tx)
    return requeued
  })
}

/**
 * Reaps running executions past their lease; of a job with `recover` and attempts left, the next
 * attempt is inserted `queued`, due at once (as PostgreSQL's).
 */
export async function abandonExpiredExecutions (db: SqlExecutor, reason: string, now: Date | null): Promise<ExecutionRecord[]> {
  return atomically(db, async (tx) => {
    const expired = await tx.query<LockedRow>(
      `SELECT ${LOCKED_COLUMNS}, ${NOW} AS now FROM scheduler_job_execution e WHERE status = 'running' AND lease_until < ${NOW} FOR UPDATE`, [now, now])
    if (expired.length === 0) return []
    const at = toDate(expired[0]?.now)
    const recovered = expired.filter((row) => Number(row.recover) === 1 && row.attempt < attemptsOf(row.retry))
    await tx.query(
      `UPDATE scheduler_job_execution SET status = 'abandoned', finished_at = ?, lease_until = NULL, exception = ?,
         next_attempt_at = CASE WHEN id IN (?) THEN ? END
       WHERE id IN (?)`,
      [at, reason, list(recovered.map((row) => Number(row.id))), at, expired.map((row) => Number(row.id))])
    await insertNextAttempts(tx, recovered.map((row) => ({ row, startAfter: at })))
    return (await tx.query(`SELECT ${MYSQL_EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE id IN (?) ORDER BY id`,
      [expired.map((row) => Number(row.id))])).map(rowToExecution)
  })
}

/** The last `recent` executions of each job (a window over each job's history: MariaDB has no LATERAL join). */
export async function getRecentExecutionStats (db: SqlClient, jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
  const rows = jobIds.length === 0
    ? []
    : await db.query(
      `SELECT ${MYSQL_EXECUTION_COLUMNS} FROM (
         SELECT ${MYSQL_EXECUTION_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY run_time DESC, id DESC) AS n
         FROM scheduler_job_execution WHERE job_id IN (?)) AS r
       WHERE n <= ? ORDER BY job_id, run_time DESC, id DESC`,
      [jobIds, recent]
    )
  return recentStats(jobIds, rows.map(rowToExecution))
}

export async function deleteOldExecutions (db: SqlClient, maxAgeSeconds: number, now: Date | null): Promise<number> {
  return affectedRows(await db.query(
    `DELETE FROM scheduler_job_execution WHERE status NOT IN ('queued', 'running') AND run_time < ${minusMs(NOW)}`,
    [now, maxAgeSeconds * 1000]
  ))
}

/** One execution, the execution list and its count: built once for every dialect (`../history-queries.ts`). */
export const { getExecution, getExecutions, countExecutions } = historyQueries(MYSQL_SQL)
