/**
 * The job store port: where jobs and their executions live. Two implementations share one
 * contract test suite: `MikroOrmJobStore` (PostgreSQL or PGlite through the host's MikroORM) and
 * `MemoryJobStore` (tests, ad-hoc use; one process only).
 *
 * Glossary (DESIGN.md): a *task* is a named handler registered in code; a *job* is a persisted
 * schedule pointing at a task by name; a *fire time* (run time) is one scheduled instant of a job;
 * an *execution* is one attempt to run one occurrence, unique per `(jobId, runTime, attempt)`; a *lease* is
 * the time until which a running execution's owner vouches for it.
 */
import type { ExecutionStatus, TerminalStatus } from '../execution-status.js'
import type { AuditContext, AuditEntry, AuditFilter, AuditRecord } from './audit.js'
import type { ClaimedJob, ClaimOptions, NextQueuedStart, QueuedClaimOptions } from './claims.js'
import type { ExecutionStatsQueries } from './execution-stats.js'
import type { NodeRecord, NodeRegistration, NodeRetention } from './node-records.js'
import type { ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from './records.js'

export type { ExecutionLogLine, ExecutionRecord, JobPatch, JobRecord, NewJobRecord } from './records.js'
export type { ClaimedJob, ClaimOptions, ClaimPlan, ClaimPlanner, LeaderFence, NextQueuedStart, QueuedClaimOptions } from './claims.js'
export type { NodeRecord, NodeRegistration, NodeRetention } from './node-records.js'
export { REMOVED_BEFORE_RETRY, REMOVED_BEFORE_RUN, SUPERSEDED_BY_LATE_SUCCESS } from './execution-reasons.js'

/** How an execution ended. */
export interface ExecutionOutcome {
  status: TerminalStatus
  exception?: string | null
  traceback?: string | null
  /**
   * Milliseconds the handler ran, measured by the executor's monotonic clock; `startedAt` is then
   * written as `finishedAt - durationMs` (so a jitter delay before the start is not counted).
   * Omit for executions that never started.
   */
  durationMs?: number | null
  /** The handler's return value as JSON text (`resultJson`: sanitised, bounded); null or absent for none. */
  resultJson?: string | null
  /** The lines the handler logged, as a JSON array (`LogCapture.json()`: sanitised, bounded); null or absent for none. */
  logsJson?: string | null
  /**
   * Milliseconds after the outcome is written that the occurrence's next attempt is due (from the
   * job's retry policy, or 0 for a recovered `abandoned` run); null or absent: no retry. Honoured for
   * `error`, `timeout` and `abandoned`: the store then sets `nextAttemptAt` and inserts attempt + 1
   * as a `queued` row with `startAfter`, in the statement that writes the outcome.
   */
  retryDelayMs?: number | null
  /**
   * Milliseconds the outcome waited between the handler settling and this write (a batch in flight,
   * a database outage): the row's `finishedAt` is the write's time less this, so a late write does not
   * move when the execution ended (nor `startedAt`, which is `finishedAt - durationMs`). Absent: 0.
   */
  waitedMs?: number | null
}

export interface JobFilter {
  task?: string
  paused?: boolean
  /** true: only jobs with a `lastError`; false: only jobs without. */
  flagged?: boolean
  /** Case-insensitive text that the id or the name contains. */
  search?: string
  limit?: number
  offset?: number
}

export interface ExecutionFilter {
  jobId?: string
  status?: ExecutionStatus
  /** Executions owned (claimed) by this node id. */
  owner?: string
  /** Run times at or after this instant. */
  from?: Date
  /** Run times at or before this instant. */
  to?: Date
  limit?: number
  offset?: number
}

/** A job's recent history at a glance (for lists): its newest execution and the mean duration of its recent ones. */
export interface RecentExecutionStats {
  lastExecution: ExecutionRecord | null
  /** Mean `durationMs` of the recent executions that have one; null when none has. */
  averageDurationMs: number | null
}

/**
 * Options of the store calls the scheduler makes for itself (loop, leases, outcomes).
 * `timeoutMs`: with it, a connection that has not answered `timeoutMs` plus one second after the
 * statement was sent is destroyed and the call rejects (`SqlClient.query`): a query sent into a
 * half-open connection (a partition) must fail, not hang the loop or the lease keeper forever.
 */
export interface QueryOptions {
  timeoutMs?: number
}

/** The earliest next run time of any claimable job, with the store's clock at that moment. */
export interface NextWakeup {
  nextRunTime: Date | null
  now: Date
}

/**
 * Contract every job store honours. Methods throw only for real faults (database errors) and the
 * documented codes; "not found" answers are `null`/`false` unless stated. The statistics behind
 * the admin page's charts are declared in `execution-stats.ts`.
 */
export interface JobStore extends ExecutionStatsQueries {
  /** Creates the tables if missing (or checks them, when the host's migrations own them). Idempotent; safe to call from processes starting together. */
  initialize(): Promise<void>
  /**
   * Called by the loop when a statement failed because a table is missing (PostgreSQL 42P01, for
   * example after a host's `schema:update` dropped it): reinstalls the tables when the store
   * installs them, and resolves to a sentence for the log saying what it did.
   * @throws SchemaOutdatedError when the host's migrations own the schema (nothing is installed).
   */
  recoverMissingTable?(error: Error): Promise<string>
  /**
   * Jobs written without the scheduler (by a process with the ORM but not the plugin, or plain SQL):
   * `nextRunTime` null, not paused, not flagged, never run. At most `limit`, oldest first.
   */
  getUnscheduledJobs?(limit: number, options?: QueryOptions): Promise<JobRecord[]>
  /**
   * Writes the next occurrence (or a flag) of a job from {@link getUnscheduledJobs} if nobody wrote
   * the job since (`version` unchanged, `nextRunTime` still null); bumps `version`. Returns whether it wrote.
   */
  scheduleUnscheduledJob?(id: string, version: number, patch: Pick<JobPatch, 'nextRunTime' | 'nextFireTime' | 'lastError'>): Promise<boolean>
  /** The store's clock (PostgreSQL: `now()`), so due times never depend on a process clock. */
  now(): Promise<Date>
  /**
   * With `audit`, an audit row is written in the same transaction (action `modified` when
   * `replaceExisting` replaced a job). @throws ConflictingIdError when the id exists and `replaceExisting` is false.
   */
  addJob(job: NewJobRecord, options?: { replaceExisting?: boolean, audit?: AuditContext }): Promise<JobRecord>
  /** Adds many jobs in one transaction (with their audit rows, given `audit`); all or nothing. @throws ConflictingIdError for the first existing id. */
  addJobs(jobs: NewJobRecord[], options?: { audit?: AuditContext }): Promise<JobRecord[]>
  getJob(id: string): Promise<JobRecord | null>
  /** Jobs ordered by id. */
  getJobs(filter?: JobFilter): Promise<JobRecord[]>
  /** How many jobs match the filter (`limit` and `offset` ignored). */
  countJobs(filter?: JobFilter): Promise<number>
  /**
   * Applies `patch` and bumps `version`. With `expectedVersion`, writes only while the job still
   * has that version (`UPDATE … WHERE id = $1 AND version = $n`): the write half of a
   * read-modify-write. With `audit`, the audit row (the fields that changed) is written in the
   * same transaction. @throws JobNotFoundError; VersionMismatchError when the version moved.
   */
  updateJob(id: string, patch: JobPatch, options?: { expectedVersion?: number, audit?: AuditContext }): Promise<JobRecord>
  /** Deletes the job (its executions stay), with its audit row given `audit`. Returns false when it did not exist (nothing is audited). */
  removeJob(id: string, options?: { audit?: AuditContext }): Promise<boolean>
  /** Earliest `nextRunTime` over jobs that are not paused and not flagged (the plan step's wake-up). */
  getNextWakeup(options?: QueryOptions): Promise<NextWakeup>
  /**
   * The plan step, in one transaction (nothing when `fence` says this node does not lead): locks up
   * to `limit` due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers never wait
   * for or see each other's rows), counts their instances (queued first attempts and live running
   * executions), plans each, and writes the executions (attempt 1) with
   * `ON CONFLICT (job_id, run_time, attempt) DO NOTHING`, advancing `nextRunTime`. Of the planned
   * runs, up to `startLimit` batches whose task is in `tasks` are written `running` under the
   * claimer's lease, the rest `queued` with their task (and workers are notified).
   */
  claimDueJobs(options: ClaimOptions): Promise<ClaimedJob[]>
  /**
   * The execute step, in one transaction: starts up to `limit` queued runs of `tasks` (and runs
   * queued without a task) whose `startAfter` has passed, oldest run time first. Per run:
   * `abandoned` when its job was removed; left queued, with the job's task, when the job's task is
   * not one of `tasks`; `missed` when it is a first attempt later than the job's
   * `misfireGraceTime`; `running` while the job has a free instance slot (a retry also waits while
   * its job is paused); otherwise it stays queued, and is not locked, until a slot frees.
   */
  claimQueuedRuns(options: QueuedClaimOptions): Promise<ClaimedJob[]>
  /**
   * When the next queued run of `tasks` may start: its `startAfter`, else its run time. A run that
   * cannot start yet (a retry of a paused job; a due run of a job with no free instance slot) is
   * left out.
   */
  getNextQueuedStart(tasks: readonly string[], options?: QueryOptions): Promise<NextQueuedStart>
  /**
   * Queues an extra run of a job now (`runJob`): a `queued` execution at the store clock's
   * millisecond (one later if taken) for any worker with its task, or a `max_instances` row when
   * the job's instances are at `maxInstances` already. Null when the job does not exist. With
   * `audit`, a `run` audit row naming the execution is written in the same transaction.
   */
  queueRun(jobId: string, now: Date | null, options?: { audit?: AuditContext }): Promise<ExecutionRecord | null>
  /**
   * Starts an extra occurrence of a job now in this process (`runJob` with `inProcess`): locks the
   * job, counts its instances, and inserts a `running` execution (or a `max_instances` row).
   * Returns null when the job does not exist.
   */
  claimImmediateRun(jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null>
  /**
   * Moves a `running` execution to a terminal state (state machine: terminal rows never change).
   * For an `abandoned` row without a late outcome, records the outcome as its late outcome
   * (`lateStatus`, `lateFinishedAt`, `lateException`) and leaves `status` alone. Returns the
   * updated row, or null when it was neither (finished, deleted, or its late outcome recorded).
   */
  finishExecution(id: number, outcome: ExecutionOutcome, now: Date | null): Promise<ExecutionRecord | null>
  /**
   * `finishExecution` for many executions in one statement; answers in the same order. `claimed`,
   * when given, is the execution's record as its claim returned it: a store may build the answer
   * from it and the outcome rather than read every column back (the row's id, job, run time,
   * attempt and `startAfter` never change after its insert).
   */
  finishExecutions(outcomes: Array<{ id: number, outcome: ExecutionOutcome, claimed?: ExecutionRecord }>, now: Date | null, options?: QueryOptions): Promise<Array<ExecutionRecord | null>>
  /**
   * Extends the leases of the owner's running executions whose lease has not expired (an expired
   * lease is never revived: another process may already count the execution dead). Returns the
   * ids extended; an id missing from the answer has lost its lease.
   */
  extendLeases(owner: string, ids: number[], leaseMs: number, now: Date | null, options?: QueryOptions): Promise<number[]>
  /**
   * Puts the owner's `running` executions claimed ahead (with a `startAfter`) that never started
   * back to `queued` (owner, `startedAt` and lease cleared; `startAfter` kept), so any worker starts
   * them at their time: at shutdown, runs waiting for their fire time are handed over, not lost.
   * Wakes the workers when it requeued any. Returns the ids requeued. Optional: a store that never
   * claims ahead (ignores `ClaimOptions.aheadMs`) need not have it.
   */
  requeueExecutions?(owner: string, ids: number[], options?: QueryOptions): Promise<number[]>
  /**
   * Whether `claimDueJobs` honours `ClaimOptions.aheadMs` (and the store has `requeueExecutions`):
   * the scheduler claims ahead of fire times only then. Absent: false.
   */
  readonly claimsAhead?: boolean
  /**
   * Marks running executions whose lease expired as `abandoned` with `reason`; returns them. Of a job
   * with `recover` and attempts left, the abandoned row gets `nextAttemptAt` (now) and the next
   * attempt is inserted `queued`, in the same statement (crash recovery).
   */
  abandonExpiredExecutions(reason: string, now: Date | null, options?: QueryOptions): Promise<ExecutionRecord[]>
  getExecution(id: number): Promise<ExecutionRecord | null>
  /** Executions newest first (by run time). */
  getExecutions(filter?: ExecutionFilter, options?: QueryOptions): Promise<ExecutionRecord[]>
  /** How many executions match the filter (`limit` and `offset` ignored). */
  countExecutions(filter?: ExecutionFilter): Promise<number>
  /**
   * For each job id, its newest execution and the mean duration of its newest `recent` executions,
   * in one query (jobs with no execution get `{ lastExecution: null, averageDurationMs: null }`).
   */
  getRecentExecutionStats(jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>>
  /** Deletes finished executions (not `queued` nor `running`) whose run time is older than `maxAgeSeconds`. Returns the count. */
  deleteOldExecutions(maxAgeSeconds: number, now: Date | null): Promise<number>
  /**
   * Writes audit rows made outside a job write of this store (ORM flushes when the store is not
   * on the ORM's database). Texts must come from `auditEntry` (sanitised, bounded).
   */
  recordAudit(entries: AuditEntry[]): Promise<void>
  /** Audit rows newest first (by `at`, then id), filtered and paginated. */
  getAudit(filter?: AuditFilter): Promise<AuditRecord[]>
  /** How many audit rows match the filter (`limit` and `offset` ignored). */
  countAudit(filter?: AuditFilter): Promise<number>
  /** Deletes audit rows older than `maxAgeSeconds` (by `at`, against `now` or the store's clock). Returns the count. */
  deleteOldAudit(maxAgeSeconds: number, now: Date | null): Promise<number>
  /**
   * Upserts this process's row in the node registry with the store's clock as `lastSeenAt` (and
   * `startedAt` on the first call), and deletes the rows of other nodes unseen for more than
   * `retentionMs` and more than `staleHeartbeats` of their own heartbeats (processes that died
   * without unregistering).
   */
  recordNode(node: NodeRegistration, retention: NodeRetention, now: Date | null, options?: QueryOptions): Promise<void>
  /** Deletes a node's registry row (its clean shutdown). Returns whether it was there. */
  removeNode(nodeId: string, options?: QueryOptions): Promise<boolean>
  /**
   * The live nodes: seen within `staleHeartbeats` of their own heartbeat intervals (inclusive) by
   * the store's clock, ordered by node id (code points, not the database collation), with their
   * running counts.
   */
  getNodes(staleHeartbeats: number, now: Date | null, options?: QueryOptions): Promise<NodeRecord[]>
  /**
   * Tells the schedulers of other processes that jobs changed, so they re-read the next due time
   * (PostgreSQL: `NOTIFY scheduler_wakeup`). Absent where there are no other processes.
   */
  notifyChange?(payload: string): Promise<void>
  /** Tells idle workers of other processes that runs were queued outside a claim (crash recovery). Absent where there are no other processes. */
  notifyQueued?(): Promise<void>
  /** Releases the store's resources (not the host's ORM). */
  close(): Promise<void>
}
