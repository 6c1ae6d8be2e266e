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
import type { ExecutionStatsQueries } from './execution-stats.js'
import type { TriggerJson } from '../triggers/types.js'
import type { RetryPolicy } from '../scheduler/retry-policy.js'

/** A job as stored. Times are `Date`s; `misfireGraceTime` is seconds; `timeoutMs` milliseconds. */
export interface JobRecord {
  id: string
  name: string
  task: string
  args: unknown[]
  trigger: TriggerJson
  /** When the next occurrence is claimed: its fire time plus the trigger's jitter. `null`: finished. */
  nextRunTime: Date | null
  /** The exact fire time of that occurrence, which becomes its execution's `runTime`. */
  nextFireTime: Date | null
  paused: boolean
  misfireGraceTime: number | null
  coalesce: boolean
  maxInstances: number
  timeoutMs: number | null
  /** Keep the lines the handler logs through `ctx.log` with each execution. */
  captureLogs: boolean
  /** Attempts per occurrence and the wait between them; `null`: one attempt. */
  retry: RetryPolicy | null
  /** An occurrence whose execution was `abandoned` (owner dead, lease lost) gets another attempt. */
  recover: boolean
  createdAt: Date
  updatedAt: Date
  version: number
  lastError: string | null
}

/** What a caller supplies to create a job (the store fills times and version; `nextFireTime` defaults to `nextRunTime`, `captureLogs` to true, `retry` to null, `recover` to false). */
export type NewJobRecord = Omit<JobRecord, 'createdAt' | 'updatedAt' | 'version' | 'nextFireTime' | 'captureLogs' | 'retry' | 'recover'> &
  { nextFireTime?: Date | null, captureLogs?: boolean, retry?: RetryPolicy | null, recover?: boolean }

/** Fields a caller may change on an existing job. A `nextRunTime` without `nextFireTime` sets both. */
export type JobPatch = Partial<Omit<JobRecord, 'id' | 'createdAt' | 'updatedAt' | 'version'>>

/** One execution row: one attempt of one occurrence. `durationMs` is milliseconds. */
export interface ExecutionRecord {
  id: number
  jobId: string
  runTime: Date
  /** Which attempt of the occurrence this is: 1, 2, … (`(jobId, runTime, attempt)` is unique). */
  attempt: number
  /** On an attempt that failed with attempts left: when the next attempt is due. Null otherwise. */
  nextAttemptAt: Date | null
  /** On a `queued` retry: not started before this instant (its backoff). Null: as soon as a slot is free. */
  startAfter: Date | null
  status: ExecutionStatus
  startedAt: Date | null
  finishedAt: Date | null
  durationMs: number | null
  exception: string | null
  traceback: string | null
  owner: string | null
  leaseUntil: Date | null
  /**
   * A late outcome: the status the execution finished with after it had been marked `abandoned`
   * (its lease expired while the handler still ran). Null otherwise. `status` stays `abandoned`.
   */
  lateStatus: TerminalStatus | null
  /** When that late outcome arrived. */
  lateFinishedAt: Date | null
  /** The late outcome's exception text, if any. */
  lateException: string | null
  /**
   * What the handler returned (parsed JSON), when it succeeded and returned a JSON-serialisable
   * value of at most 64 KiB; a string `[result not stored: …]` saying why otherwise; null when it
   * returned nothing (`undefined` or `null`) or did not succeed. Present only on single-execution
   * reads (`getExecution`, `waitForExecution`); lists, claims and events leave it out.
   */
  result?: unknown
  /**
   * The lines the handler logged through `ctx.log` (`{ time, level, msg, fields }`, oldest first;
   * the last 200 or 64 KiB), when its job captures logs; null when capture is off or nothing was
   * logged. Present only on single-execution reads, like `result`.
   */
  logs?: ExecutionLogLine[] | null
}

/** One line a handler logged (`ExecutionRecord.logs`): ISO time, pino level name, message, logged fields. */
export interface ExecutionLogLine {
  time: string
  level: string
  msg: string
  fields: Record<string, unknown>
}

/** Why a queued run (`runJob`) of a removed job is recorded `abandoned`. */
export const REMOVED_BEFORE_RUN = 'the job was removed before its queued run started'
/** Why a pending retry of a removed job is recorded `abandoned`. */
export const REMOVED_BEFORE_RETRY = 'the job was removed before this retry started'

/** Why a recovered attempt still queued is recorded `abandoned` when the attempt it recovers succeeds late after all. */
export const SUPERSEDED_BY_LATE_SUCCESS = 'not needed: the attempt it recovered finished successfully after all (a late outcome)'

/** What to do with one due job, decided by the scheduler from the job, the database time and its running count. */
export interface ClaimPlan {
  /**
   * Occurrences to start now (become `running` executions owned by the claimer), in run-time
   * order. Several are one catch-up batch: they take one instance and run one after another.
   */
  run: Date[]
  /** Occurrences recorded as `missed` (later than the misfire grace time). */
  missed: Date[]
  /** Occurrences recorded as `max_instances` (no free instance slot). */
  maxInstances: Date[]
  /** The job's new next run time, jitter included (`null`: finished). */
  nextRunTime: Date | null
  /** The exact fire time behind `nextRunTime`; default: `nextRunTime` (no jitter). */
  nextFireTime?: Date | null
  /** Overdue occurrences folded into the one run or miss by `coalesce` (no row is written for them). */
  coalesced: number
  /** Set to flag the job as unloadable (kept, never deleted, not claimed until fixed). */
  lastError?: string
}

/**
 * Decides a claim for one due job. Pure; must not throw (flag the job through `lastError` instead).
 * `runningCount` counts the job's live executions cluster-wide: `running` rows whose lease has not
 * expired (a row past its lease is dead, even before the reaper marks it `abandoned`).
 */
export type ClaimPlanner = (job: JobRecord, now: Date, runningCount: number) => ClaimPlan

/** Who must lead for a claim to go ahead (see `ClaimOptions.fence`). */
export interface LeaderFence {
  lockKey: number
  nodeId: string
  /** `pg_backend_pid()` of the session holding the advisory lock, as written in the leader row. */
  backendPid: number
  /** Milliseconds: a heartbeat older than this fails the fence (the options' `leaderStaleMs`). */
  staleMs: number
}

export interface ClaimOptions {
  /** The time to claim at; `null` reads the database clock (`now()`), which is what production uses. */
  now: Date | null
  /** Most queued runs plus due jobs to handle in one transaction. */
  limit: number
  /** Node id written to the `owner` of running executions. */
  owner: string
  /** Milliseconds of lease given to each running execution. */
  leaseMs: number
  plan: ClaimPlanner
  /**
   * Leader fence (advisory lock), checked inside the claim transaction: claim only while the
   * `scheduler_leader` row for `lockKey` (taken `FOR SHARE`, so a standby cannot rewrite it until
   * the claim commits) names `nodeId` and `backendPid` (the lock session's `pg_backend_pid()`) and
   * its heartbeat is younger than `staleMs`. So a frozen leader that thaws claims nothing, even
   * before a standby has written its own row. Stores without a leader table ignore it.
   */
  fence?: LeaderFence
  /**
   * Milliseconds the claim's statements may take (PostgreSQL: `SET LOCAL statement_timeout` and
   * `idle_in_transaction_session_timeout`; a connection silent for longer is closed). No limit when absent.
   */
  timeoutMs?: number
}

/** The outcome of claiming one due job. */
export interface ClaimedJob {
  job: JobRecord
  /** New `running` executions this claimer owns and must run. */
  running: ExecutionRecord[]
  /** New terminal rows written by the claim (`missed`, `max_instances`). */
  recorded: ExecutionRecord[]
  /** Occurrences another process had already recorded (unique-key conflict): not ours, skipped. */
  claimedElsewhere: Date[]
  /** Overdue occurrences folded away by `coalesce` (see `ClaimPlan.coalesced`). */
  coalesced: number
  /** The job was flagged with this error instead of being run. */
  flagged: string | null
  /**
   * The `running` executions are one catch-up batch of a due job (claim step 2): they share one
   * instance and run one after another, in run-time order (APScheduler `run_job`). Absent for
   * queued runs started by the claim (each is an instance of its own).
   */
  catchUp?: boolean
}

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

/** What a scheduler process says of itself in the node registry (`scheduler_node`) at each heartbeat. */
export interface NodeRegistration {
  /** The process's node id: the `owner` of the executions it runs. */
  nodeId: string
  host: string
  pid: number
  /** Names of the tasks it has registered. */
  tasks: string[]
  /** What it may do: `plan` (take the leader lock and claim), `execute` (run handlers). */
  roles: Array<'plan' | 'execute'>
  /** The leader lock it uses (`advisory`, `file`, `none`). */
  lock: string
  /** Milliseconds between its heartbeats (`nodeHeartbeatMs`). */
  heartbeatMs: number
}

/** When `recordNode` prunes another node's row: unseen for more than `retentionMs` and more than `staleHeartbeats` of its heartbeats. */
export interface NodeRetention {
  retentionMs: number
  staleHeartbeats: number
}

/** A live node as `getNodes` reports it: its registration, times on the store's clock, and what it runs now. */
export interface NodeRecord extends NodeRegistration {
  /** When the node first registered (its scheduler started). */
  startedAt: Date
  /** Its last heartbeat. */
  lastSeenAt: Date
  /** Milliseconds since its last heartbeat, by the store's clock. */
  lastSeenAgoMs: number
  /** Its `running` executions (leases not checked). */
  running: number
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
  /**
   * Earliest `nextRunTime` over jobs that are not paused and not flagged, or the time a queued run may
   * start (its `startAfter`, else its run time); a queued retry of a paused job, or of a job with no
   * free instance slot, is left out (it cannot start yet).
   */
  getNextWakeup(options?: QueryOptions): Promise<NextWakeup>
  /**
   * In one transaction, up to `limit` jobs in all (and nothing when `fence` says this node does not lead):
   * 1. starts queued runs whose `startAfter` has passed, oldest run time first: an extra run
   *    (`queueRun`, attempt 1) becomes `running` while the job has a free instance slot, else
   *    `max_instances`; a retry (attempt ≥ 2) becomes `running` when the job is not paused and has a
   *    free slot, and otherwise stays queued; either is `abandoned` when the job was removed;
   * 2. locks due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers never wait for
   *    or see each other's rows), plans each, writes executions (attempt 1) with
   *    `ON CONFLICT (job_id, run_time, attempt) DO NOTHING`, and advances `nextRunTime`.
   */
  claimDueJobs(options: ClaimOptions): Promise<ClaimedJob[]>
  /**
   * Queues an extra run of a job now (`runJob` from any process): a `queued` execution at the store
   * clock's millisecond (one later if taken), started by the leader's next claim. Null when the job
   * does not exist. With `audit`, a `run` audit row naming the execution is written in the same transaction.
   */
  queueRun(jobId: string, now: Date | null, options?: { audit?: AuditContext }): Promise<ExecutionRecord | null>
  /**
   * Starts an extra occurrence of a job now (`runJob`): locks the job, checks max instances, and
   * inserts a `running` execution (or a `max_instances` row). Returns null when the job does not exist.
   */
  claimImmediateRun(jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null>
  /**
   * Moves a `running` execution to a terminal state (state machine: terminal rows never change).
   * For an `abandoned` row without a late outcome, records the outcome as its late outcome
   * (`lateStatus`, `lateFinishedAt`, `lateException`) and leaves `status` alone. Returns the
   * updated row, or null when it was neither (finished, deleted, or its late outcome recorded).
   */
  finishExecution(id: number, outcome: ExecutionOutcome, now: Date | null): Promise<ExecutionRecord | null>
  /** `finishExecution` for many executions in one statement; answers in the same order. */
  finishExecutions(outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null, options?: QueryOptions): Promise<Array<ExecutionRecord | null>>
  /**
   * Extends the leases of the owner's running executions whose lease has not expired (an expired
   * lease is never revived: another process may already count the execution dead). Returns the
   * ids extended; an id missing from the answer has lost its lease.
   */
  extendLeases(owner: string, ids: number[], leaseMs: number, now: Date | null, options?: QueryOptions): Promise<number[]>
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
  /** Releases the store's resources (not the host's ORM). */
  close(): Promise<void>
}
