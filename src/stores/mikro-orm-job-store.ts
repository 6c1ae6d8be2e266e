/**
 * `MikroOrmJobStore`: jobs and executions in the host's PostgreSQL (or PGlite) database, reached
 * through the host's MikroORM connection pool. The hot path (claims, finishes, leases) is plain
 * SQL through the ORM's native client: no entity hydration, one statement per batch.
 *
 * Correctness lives in the database (DESIGN.md "Scheduling protocol"): due jobs are locked with
 * `FOR UPDATE SKIP LOCKED`, times come from `now()`, and `UNIQUE (job_id, run_time)` with
 * `ON CONFLICT DO NOTHING` refuses a second execution of one occurrence.
 */
import type { MikroORM } from '@mikro-orm/core'
import { ConflictingIdError, JobNotFoundError } from '../errors.js'
import { WAKEUP_CHANNEL } from '../scheduler/dedicated-session.js'
import { installSchema } from '../schema/install.js'
import { sqlClientFromOrm } from '../sql/from-orm.js'
import { toDate, toDateOrNull, type SqlClient, type SqlExecutor } from '../sql/sql-client.js'
import type {
  ClaimedJob, ClaimOptions, ClaimPlan, RecentExecutionStats, ExecutionFilter, ExecutionOutcome, ExecutionRecord, JobFilter, JobPatch,
  JobRecord, JobStore, NewJobRecord, NextWakeup
} from './job-store.js'
import { recentStats } from './recent-stats.js'
import { EXECUTION_COLUMNS, EXECUTION_COLUMNS_OF_E, JOB_COLUMNS, liveRunning, rowToExecution, rowToJob, withFireTime } from './rows.js'

/** `$n::timestamptz` that falls back to the database clock when the parameter is null. */
const nowParam = (n: number): string => `coalesce($${n}::timestamptz, now())`

const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  name: 'name',
  task: 'task',
  args: 'args',
  trigger: 'trigger',
  nextRunTime: 'next_run_time',
  nextFireTime: 'next_fire_time',
  paused: 'paused',
  misfireGraceTime: 'misfire_grace_time',
  coalesce: 'coalesce',
  maxInstances: 'max_instances',
  timeoutMs: 'timeout_ms',
  lastError: 'last_error'
}

export class MikroOrmJobStore implements JobStore {
  #sql: SqlClient | null
  #ready: Promise<SqlClient> | null = null
  readonly #orm: MikroORM | null

  /** Pass the host's `MikroORM` instance (PostgreSQL or PGlite driver), or a ready `SqlClient`. */
  constructor (source: MikroORM | SqlClient) {
    const isSqlClient = 'transaction' in source && 'openSession' in source
    this.#sql = isSqlClient ? source as SqlClient : null
    this.#orm = isSqlClient ? null : source as MikroORM
  }

  /** The SQL port, for the leader lock and wake-up listener. Available after `initialize()`. */
  get sql (): SqlClient {
    if (this.#sql === null) throw new Error('MikroOrmJobStore: call initialize() first')
    return this.#sql
  }

  async initialize (): Promise<void> {
    await this.#db()
  }

  /**
   * The SQL port with the schema installed, resolved on first use (so the API also works before
   * `start()`). A failed attempt is not cached: the next call tries again.
   */
  async #db (): Promise<SqlClient> {
    this.#ready ??= (async () => {
      const sql = this.#sql ?? await sqlClientFromOrm(this.#orm as MikroORM)
      await installSchema(sql)
      this.#sql = sql
      return sql
    })().catch((error: unknown) => {
      this.#ready = null
      throw error
    })
    return this.#ready
  }

  async now (): Promise<Date> {
    const [row] = await (await this.#db()).query<{ now: unknown }>('SELECT now() AS now')
    return toDate(row?.now)
  }

  async addJob (job: NewJobRecord, options: { replaceExisting?: boolean } = {}): Promise<JobRecord> {
    const conflict = options.replaceExisting === true
      ? `ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, task = EXCLUDED.task, args = EXCLUDED.args,
          trigger = EXCLUDED.trigger, next_run_time = EXCLUDED.next_run_time, next_fire_time = EXCLUDED.next_fire_time, paused = EXCLUDED.paused,
          misfire_grace_time = EXCLUDED.misfire_grace_time, coalesce = EXCLUDED.coalesce,
          max_instances = EXCLUDED.max_instances, timeout_ms = EXCLUDED.timeout_ms, last_error = EXCLUDED.last_error,
          updated_at = now(), version = scheduler_job.version + 1`
      : 'ON CONFLICT (id) DO NOTHING'
    const rows = await (await this.#db()).query(
      `INSERT INTO scheduler_job (id, name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, last_error, next_fire_time)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13) ${conflict}
       RETURNING ${JOB_COLUMNS}`,
      jobValues(job)
    )
    if (rows.length === 0) throw new ConflictingIdError(job.id)
    return rowToJob(rows[0] as Record<string, unknown>)
  }

  async addJobs (jobs: NewJobRecord[]): Promise<JobRecord[]> {
    if (jobs.length === 0) return []
    const columns = jobs.map(jobValues)
    const column = (i: number): unknown[] => columns.map((values) => values[i])
    return (await this.#db()).transaction(async (tx) => {
      const rows = await tx.query(
        `INSERT INTO scheduler_job (id, name, task, args, trigger, next_run_time, paused, misfire_grace_time, coalesce, max_instances, timeout_ms, last_error, next_fire_time)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[], $7::boolean[],
                              $8::integer[], $9::boolean[], $10::integer[], $11::integer[], $12::text[], $13::timestamptz[])
         ON CONFLICT (id) DO NOTHING
         RETURNING ${JOB_COLUMNS}`,
        Array.from({ length: 13 }, (_, i) => column(i))
      )
      if (rows.length !== jobs.length) {
        // Not inserted: the id existed. Seen before: the batch repeats it (ON CONFLICT skipped the repeat).
        const inserted = new Set(rows.map((row) => (row as { id: string }).id))
        const seen = new Set<string>()
        const existing = jobs.find((job) => {
          const refused = !inserted.has(job.id) || seen.has(job.id)
          seen.add(job.id)
          return refused
        })
        throw new ConflictingIdError(existing?.id ?? '?')
      }
      return rows.map((row) => rowToJob(row as Record<string, unknown>))
    })
  }

  async getJob (id: string): Promise<JobRecord | null> {
    const [row] = await (await this.#db()).query(`SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE id = $1`, [id])
    return row === undefined ? null : rowToJob(row)
  }

  async getJobs (filter: JobFilter = {}): Promise<JobRecord[]> {
    const where = jobWhere(filter)
    const rows = await (await this.#db()).query(
      `SELECT ${JOB_COLUMNS} FROM scheduler_job WHERE ${where.sql} ORDER BY id LIMIT $${where.values.length + 1} OFFSET $${where.values.length + 2}`,
      [...where.values, filter.limit ?? null, filter.offset ?? 0]
    )
    return rows.map(rowToJob)
  }

  async countJobs (filter: JobFilter = {}): Promise<number> {
    const where = jobWhere(filter)
    const [row] = await (await this.#db()).query<{ count: number }>(`SELECT count(*)::integer AS count FROM scheduler_job WHERE ${where.sql}`, where.values)
    return row?.count ?? 0
  }

  async updateJob (id: string, changes: JobPatch): Promise<JobRecord> {
    const patch = withFireTime(changes)
    const sets: string[] = []
    const values: unknown[] = [id]
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof JobPatch, string]>) {
      if (!(key in patch)) continue
      const value = patch[key]
      values.push(key === 'args' || key === 'trigger' ? JSON.stringify(value) : value)
      sets.push(`${column} = $${values.length}`)
    }
    sets.push('updated_at = now()', 'version = version + 1')
    const [row] = await (await this.#db()).query(
      `UPDATE scheduler_job SET ${sets.join(', ')} WHERE id = $1 RETURNING ${JOB_COLUMNS}`,
      values
    )
    if (row === undefined) throw new JobNotFoundError(id)
    return rowToJob(row)
  }

  async removeJob (id: string): Promise<boolean> {
    const rows = await (await this.#db()).query('DELETE FROM scheduler_job WHERE id = $1 RETURNING id', [id])
    return rows.length > 0
  }

  async getNextWakeup (): Promise<NextWakeup> {
    const [row] = await (await this.#db()).query<{ next: unknown, now: unknown }>(
      `SELECT least(
                (SELECT next_run_time FROM scheduler_job
                 WHERE NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL
                 ORDER BY next_run_time LIMIT 1),
                (SELECT run_time FROM scheduler_job_execution WHERE status = 'queued' ORDER BY run_time LIMIT 1)
              ) AS next, now() AS now`
    )
    return { nextRunTime: toDateOrNull(row?.next), now: toDate(row?.now) }
  }

  async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    return (await this.#db()).transaction(async (tx) => {
      const [head] = await tx.query<{ now: unknown, leading: boolean, queued: Array<{ id: number, job_id: string }> | string | null }>(
        `WITH queued AS (
           SELECT id, job_id FROM scheduler_job_execution WHERE status = 'queued'
           ORDER BY run_time, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         SELECT ${nowParam(1)} AS now,
                ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM scheduler_leader WHERE lock_key = $3 AND node_id = $4)) AS leading,
                (SELECT json_agg(json_build_object('id', id, 'job_id', job_id)) FROM queued) AS queued`,
        [options.now, options.limit, options.fence?.lockKey ?? null, options.fence?.nodeId ?? null]
      )
      if (head === undefined || !head.leading) return []
      const now = toDate(head.now)
      // json arrives parsed from pg and PGlite; text is tolerated for drivers that leave it raw.
      const queued = (typeof head.queued === 'string' ? JSON.parse(head.queued) : head.queued ?? []) as Array<{ id: number, job_id: string }>
      const started = await startQueued(tx, queued, now, options)
      const limit = options.limit - queued.length
      if (limit <= 0) return started
      // Each due job with its cluster-wide running count (partial index on running executions).
      // A running row whose lease has expired counts as dead even before the reaper marks it
      // abandoned: after an outage its owner's outcome may never come, and it must not hold a slot.
      const jobRows = await tx.query(
        `SELECT ${JOB_COLUMNS},
                (SELECT count(*)::integer FROM scheduler_job_execution e
                 WHERE e.job_id = j.id AND ${liveRunning('e.', '$1')}) AS running_count
         FROM scheduler_job AS j
         WHERE NOT paused AND last_error IS NULL AND next_run_time <= $1
         ORDER BY next_run_time LIMIT $2 FOR UPDATE OF j SKIP LOCKED`,
        [now, limit]
      )
      if (jobRows.length === 0) return started
      const jobs = jobRows.map(rowToJob)
      const plans = jobs.map((job, i) => options.plan(job, now, (jobRows[i] as { running_count: number }).running_count))

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
         ON CONFLICT (job_id, run_time) DO NOTHING
         RETURNING ${EXECUTION_COLUMNS}`,
        [
          jobIds, runTimes, statuses, now, options.owner, options.leaseMs,
          jobs.map((job) => job.id), plans.map((plan) => plan.nextRunTime),
          plans.map((plan) => plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime), plans.map((plan) => plan.lastError ?? null)
        ]
      )).map(rowToExecution)
      return [...started, ...groupClaims(jobs, plans, jobIds, runTimes, inserted)]
    })
  }

  async queueRun (jobId: string, now: Date | null): Promise<ExecutionRecord | null> {
    return (await this.#db()).transaction(async (tx) => {
      const [job] = await tx.query<{ now: unknown }>(
        `SELECT date_trunc('milliseconds', ${nowParam(2)}) AS now FROM scheduler_job WHERE id = $1 FOR SHARE`,
        [jobId, now]
      )
      if (job === undefined) return null
      for (let runTime = toDate(job.now).getTime(); ; runTime += 1) {
        const [row] = await tx.query(
          `INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ($1, $2, 'queued')
           ON CONFLICT (job_id, run_time) DO NOTHING RETURNING ${EXECUTION_COLUMNS}`,
          [jobId, new Date(runTime)]
        )
        if (row !== undefined) return rowToExecution(row)
      }
    })
  }

  async claimImmediateRun (jobId: string, options: { now: Date | null, owner: string, leaseMs: number }): Promise<ExecutionRecord | null> {
    return (await this.#db()).transaction(async (tx) => {
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
           ON CONFLICT (job_id, run_time) DO NOTHING
           RETURNING ${EXECUTION_COLUMNS}`,
          [jobId, new Date(runTime), status, options.owner, options.leaseMs, now]
        )
        if (row !== undefined) return rowToExecution(row)
      }
    })
  }

  async finishExecution (id: number, outcome: ExecutionOutcome, now: Date | null): Promise<ExecutionRecord | null> {
    const [finished] = await this.finishExecutions([{ id, outcome }], now)
    return finished ?? null
  }

  async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
    if (outcomes.length === 0) return []
    const rows = await (await this.#db()).query(
      `UPDATE scheduler_job_execution AS e
       SET status = u.status, finished_at = ${nowParam(6)}, lease_until = NULL, exception = u.exception, traceback = u.traceback,
           duration_ms = u.duration_ms,
           started_at = CASE WHEN u.duration_ms IS NULL THEN e.started_at
                             ELSE ${nowParam(6)} - make_interval(secs => u.duration_ms / 1000.0) END
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::numeric[]) AS u(id, status, exception, traceback, duration_ms)
       WHERE e.id = u.id AND e.status = 'running'
       RETURNING ${EXECUTION_COLUMNS_OF_E}`,
      [
        outcomes.map(({ id }) => id),
        outcomes.map(({ outcome }) => outcome.status),
        outcomes.map(({ outcome }) => outcome.exception ?? null),
        outcomes.map(({ outcome }) => outcome.traceback ?? null),
        outcomes.map(({ outcome }) => outcome.durationMs ?? null),
        now
      ]
    )
    const finished = new Map(rows.map((row) => { const execution = rowToExecution(row); return [execution.id, execution] }))
    return outcomes.map(({ id }) => finished.get(id) ?? null)
  }

  async extendLeases (owner: string, ids: number[], leaseMs: number, now: Date | null): Promise<number> {
    if (ids.length === 0) return 0
    const rows = await (await this.#db()).query(
      `UPDATE scheduler_job_execution SET lease_until = ${nowParam(4)} + make_interval(secs => $3 / 1000.0)
       WHERE id = ANY($1::bigint[]) AND owner = $2 AND status = 'running' RETURNING id`,
      [ids, owner, leaseMs, now]
    )
    return rows.length
  }

  async abandonExpiredExecutions (reason: string, now: Date | null): Promise<ExecutionRecord[]> {
    const rows = await (await this.#db()).query(
      `UPDATE scheduler_job_execution
       SET status = 'abandoned', finished_at = ${nowParam(2)}, lease_until = NULL, exception = $1
       WHERE status = 'running' AND lease_until < ${nowParam(2)}
       RETURNING ${EXECUTION_COLUMNS}`,
      [reason, now]
    )
    return rows.map(rowToExecution)
  }

  async getExecution (id: number): Promise<ExecutionRecord | null> {
    const [row] = await (await this.#db()).query(`SELECT ${EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE id = $1`, [id])
    return row === undefined ? null : rowToExecution(row)
  }

  async getExecutions (filter: ExecutionFilter = {}): Promise<ExecutionRecord[]> {
    const where = executionWhere(filter)
    const rows = await (await this.#db()).query(
      `SELECT ${EXECUTION_COLUMNS} FROM scheduler_job_execution WHERE ${where.sql}
       ORDER BY run_time DESC, id DESC LIMIT $${where.values.length + 1} OFFSET $${where.values.length + 2}`,
      [...where.values, filter.limit ?? null, filter.offset ?? 0]
    )
    return rows.map(rowToExecution)
  }

  async countExecutions (filter: ExecutionFilter = {}): Promise<number> {
    const where = executionWhere(filter)
    const [row] = await (await this.#db()).query<{ count: number }>(`SELECT count(*)::integer AS count FROM scheduler_job_execution WHERE ${where.sql}`, where.values)
    return row?.count ?? 0
  }

  async getRecentExecutionStats (jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
    const rows = jobIds.length === 0
      ? []
      : await (await this.#db()).query(
        `SELECT r.* FROM unnest($1::text[]) AS j(id)
         CROSS JOIN LATERAL (
           SELECT ${EXECUTION_COLUMNS} FROM scheduler_job_execution e
           WHERE e.job_id = j.id ORDER BY run_time DESC, id DESC LIMIT $2) AS r`,
        [jobIds, recent]
      )
    return recentStats(jobIds, rows.map(rowToExecution))
  }

  async deleteOldExecutions (maxAgeSeconds: number, now: Date | null): Promise<number> {
    const rows = await (await this.#db()).query(
      `DELETE FROM scheduler_job_execution
       WHERE status NOT IN ('queued', 'running') AND run_time < ${nowParam(2)} - make_interval(secs => $1) RETURNING id`,
      [maxAgeSeconds, now]
    )
    return rows.length
  }

  async notifyChange (payload: string): Promise<void> {
    await (await this.#db()).query('SELECT pg_notify($1, $2)', [WAKEUP_CHANNEL, payload])
  }

  async close (): Promise<void> {
    // The pool belongs to the host's ORM; the host closes it.
  }
}

/** The WHERE clause of a job filter, with its values as $1.. */
function jobWhere (filter: JobFilter): { sql: string, values: unknown[] } {
  return {
    sql: `($1::text IS NULL OR task = $1) AND ($2::boolean IS NULL OR paused = $2)
      AND ($3::boolean IS NULL OR (last_error IS NOT NULL) = $3)
      AND ($4::text IS NULL OR id ILIKE $4 ESCAPE '\\' OR name ILIKE $4 ESCAPE '\\')`,
    values: [filter.task ?? null, filter.paused ?? null, filter.flagged ?? null, filter.search === undefined ? null : `%${escapeLike(filter.search)}%`]
  }
}

/** The WHERE clause of an execution filter, with its values as $1.. */
function executionWhere (filter: ExecutionFilter): { sql: string, values: unknown[] } {
  return {
    sql: `($1::text IS NULL OR job_id = $1) AND ($2::text IS NULL OR status = $2)
      AND ($3::timestamptz IS NULL OR run_time >= $3) AND ($4::timestamptz IS NULL OR run_time <= $4)`,
    values: [filter.jobId ?? null, filter.status ?? null, filter.from ?? null, filter.to ?? null]
  }
}

/** Escapes LIKE wildcards so a search for `50%_off` matches those characters. */
function escapeLike (text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

function jobValues (job: NewJobRecord): unknown[] {
  return [
    job.id, job.name, job.task, JSON.stringify(job.args), JSON.stringify(job.trigger), job.nextRunTime, job.paused,
    job.misfireGraceTime, job.coalesce, job.maxInstances, job.timeoutMs, job.lastError,
    job.nextFireTime === undefined ? job.nextRunTime : job.nextFireTime
  ]
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
 * slot, else `max_instances`, or `abandoned` when the job is gone.
 */
async function startQueued (
  tx: SqlExecutor, queued: Array<{ id: number, job_id: string }>, now: Date, options: ClaimOptions
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
  for (const run of queued) {
    const job = jobs.get(run.job_id)
    if (job === undefined && locked.has(run.job_id)) continue // held by another claimer: stays queued
    const count = running.get(run.job_id) ?? 0
    const status = job === undefined ? 'abandoned' : count < job.maxInstances ? 'running' : 'max_instances'
    if (status === 'running') running.set(run.job_id, count + 1)
    ids.push(Number(run.id))
    statuses.push(status)
  }
  if (ids.length === 0) return []
  const rows = (await tx.query(
    `UPDATE scheduler_job_execution AS e
     SET status = u.status, owner = $3,
         started_at = CASE WHEN u.status = 'running' THEN $4::timestamptz END,
         finished_at = CASE WHEN u.status <> 'running' THEN $4::timestamptz END,
         lease_until = CASE WHEN u.status = 'running' THEN $4::timestamptz + make_interval(secs => $5 / 1000.0) END,
         exception = CASE WHEN u.status = 'abandoned' THEN 'the job was removed before its queued run started' END
     FROM unnest($1::bigint[], $2::text[]) AS u(id, status)
     WHERE e.id = u.id AND e.status = 'queued'
     RETURNING ${EXECUTION_COLUMNS_OF_E}`,
    [ids, statuses, options.owner, now, options.leaseMs]
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
    job, running: [], recorded: [], claimedElsewhere: [], coalesced: plans[i]?.coalesced ?? 0, flagged: plans[i]?.lastError ?? null
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
