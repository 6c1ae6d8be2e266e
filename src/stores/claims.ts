/**
 * The claim's types (DESIGN.md "Scheduling protocol"): what the scheduler decides for a due job
 * (`ClaimPlan`, from a `ClaimPlanner`), what the store is asked (`ClaimOptions`, with the leader
 * fence) and what it answers (`ClaimedJob`). Part of the job store port (`job-store.ts`
 * re-exports them).
 */
import type { ExecutionRecord, JobRecord } from './records.js'

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
  /**
   * Occurrences claimed ahead of their run time (`ClaimOptions.aheadMs`), in run-time order: each
   * is an instance of its own, written `running` (when the claimer can start one more) or
   * `queued`, with `start_after` = `startAt` (its jittered run time), and must not start before it.
   * Beside a due job's `run` batch, they take the instance slots the batch leaves.
   */
  ahead?: Array<{ runTime: Date, startAt: Date }>
}

/**
 * Decides a claim for one due job (or, with `horizon` later than `now`, one due before the
 * horizon: see `ClaimPlan.ahead`). Pure; must not throw (flag the job through `lastError` instead).
 * `instances` counts the job's instances cluster-wide: queued first attempts plus `running` rows
 * whose lease has not expired (a row past its lease is dead, even before the reaper marks it
 * `abandoned`). APScheduler counts a job submitted to a busy pool as an instance.
 */
export type ClaimPlanner = (job: JobRecord, now: Date, instances: number, horizon?: Date) => ClaimPlan

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
  /** Most due jobs to plan in one transaction. */
  limit: number
  /**
   * Milliseconds to claim ahead (default 0): jobs whose next run time is no later than the claim
   * time plus this are claimed too, and planned with that horizon (`ClaimPlan.ahead`), so a claim
   * that takes long (a slow network) is done before the occurrences it claims fall due. A store
   * that cannot claim ahead ignores it (it claims due jobs only; the scheduler then claims each
   * when it falls due).
   */
  aheadMs?: number
  /**
   * Most planned runs (a catch-up batch counts once) the claimer starts itself, `running` under its
   * lease: its free executor slots, 0 for a process with `execute: false`. The rest are `queued`.
   */
  startLimit: number
  /** Tasks the claimer can run itself (registered, `execute: true`); runs of other tasks are queued for workers. */
  tasks: readonly string[]
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
  /** New terminal rows written by the claim (`missed`, `max_instances`, `abandoned`). */
  recorded: ExecutionRecord[]
  /** New `queued` rows the plan step left for workers (any process with the task and a free slot). */
  queued?: ExecutionRecord[]
  /** Occurrences another process had already recorded (unique-key conflict): not ours, skipped. */
  claimedElsewhere: Date[]
  /** Overdue occurrences folded away by `coalesce` (see `ClaimPlan.coalesced`). */
  coalesced: number
  /** The job was flagged with this error instead of being run. */
  flagged: string | null
  /**
   * The `running` executions are one catch-up batch of a due job (claim step 2): they share one
   * instance and run one after another, in run-time order (APScheduler `run_job`). Absent for
   * queued runs started by a worker (each is an instance of its own).
   */
  catchUp?: boolean
  /**
   * Occurrences of the job were claimed ahead of their run times (`ClaimPlan.ahead`): its `running`
   * executions with a `startAfter` are those, each an instance of its own that must start at its
   * `startAfter`, not before; the others are the due batch, as usual.
   */
  ahead?: boolean
}

/** What a worker asks the store when it starts queued runs (`JobStore.claimQueuedRuns`). */
export interface QueuedClaimOptions {
  /** The time to claim at; `null` reads the database clock (`now()`). */
  now: Date | null
  /** Most queued runs to take in one transaction (the worker's free executor slots). */
  limit: number
  /** Node id written to the `owner` of the runs it starts. */
  owner: string
  /** Milliseconds of lease given to each run it starts. */
  leaseMs: number
  /** The task names this worker has registered: only their runs are taken. */
  tasks: readonly string[]
  /** Milliseconds the claim's statements may take (see `ClaimOptions.timeoutMs`). */
  timeoutMs?: number
}

/** When the next queued run of a worker's tasks may start, with the store's clock at that moment. */
export interface NextQueuedStart {
  /** Its `startAfter`, else its run time; null when no queued run of these tasks can start. */
  nextStartTime: Date | null
  /** Whether a due queued run of these tasks waits for a free instance slot of its job (a freed slot may let it start). */
  waitingForSlot: boolean
  now: Date
}

/**
 * The jittered instant of a queued occurrence, when it has one: the job's `nextRunTime` for the
 * occurrence at its `nextFireTime` (the jitter drawn for it), else null. Written as the row's
 * `start_after`, so a worker measures lateness against the misfire grace time from it, as the
 * planner does (claim-planner.ts), not from the exact fire time.
 */
export function jitteredStart (job: JobRecord, runTime: Date): Date | null {
  const fireTime = job.nextFireTime ?? job.nextRunTime
  return job.nextRunTime !== null && fireTime !== null && fireTime.getTime() === runTime.getTime() && job.nextRunTime > runTime ? job.nextRunTime : null
}

/** `catchUp` and `ahead` of a job the plan step claimed (see `ClaimedJob`). */
export function aheadFlags (plan: ClaimPlan | undefined): Pick<ClaimedJob, 'catchUp' | 'ahead'> {
  return (plan?.ahead?.length ?? 0) > 0 ? { catchUp: true, ahead: true } : { catchUp: true }
}
