/**
 * The scheduling loop, the plan step (DESIGN.md "Scheduling protocol"): take or keep the leader
 * lock, then claim due jobs in one transaction, whatever this process's own capacity: the runs it
 * can start itself (its task registered, `execute: true`, a free executor slot) are written
 * `running` and handed to the executor, the rest `queued` for any worker (`execute-loop.ts`). Then
 * it sleeps until the next run time, a wake-up notification, or `pollIntervalMs`, whichever is first.
 *
 * It never throws into the host: faults are logged, emitted as `scheduler:error`, and retried
 * with jittered exponential backoff (`retrying-loop.ts`).
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import type { LeaderLock } from '../locks/leader-lock.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { ClaimPlanner } from '../stores/job-store.js'
import type { ClusterTasks } from './cluster-tasks.js'
import type { DedicatedSession } from './dedicated-session.js'
import type { SchedulerEventBus } from './events.js'
import type { ExecutionRunner } from './execution-runner.js'
import type { Executor } from './executor.js'
import type { OrphanAdoption } from './orphan-adoption.js'
import { RetryingLoop } from './retrying-loop.js'
import type { UnscheduledJobs } from './unscheduled-jobs.js'

export interface SchedulingLoopDeps {
  options: ResolvedSchedulerOptions
  lock: LeaderLock
  /** The LISTEN connection (and the advisory lock's); null for stores without one. */
  session: DedicatedSession | null
  executor: Executor
  runner: ExecutionRunner
  events: SchedulerEventBus
  plan: ClaimPlanner
  /** Wraps each claim transaction in a span. */
  tracing: SchedulerTracing
  /** Gives jobs written without the scheduler their first occurrence (leader, every `pollIntervalMs`). */
  unscheduled?: UnscheduledJobs
  /** Runs what a failed claim committed after all (scheduler/orphan-adoption.ts). */
  adoption?: OrphanAdoption
  /** The tasks live processes with `execute: true` have registered: a job whose task none has is flagged. */
  clusterTasks: ClusterTasks
  /** The tasks this process runs itself (its registered tasks; none with `execute: false`). */
  tasks: () => string[]
  /** The claim queued runs (this process's own execute loop may take them now). */
  onQueued?: () => void
}

/** With due jobs left but none claimable (locked by another claimer), wait this long before retrying. */
export const CONTENDED_RETRY_MS = 10

export class SchedulingLoop {
  readonly #deps: SchedulingLoopDeps
  readonly #loop: RetryingLoop
  #nextRunTime: Date | null = null
  /** `performance.now()` when the lock was last lost; the next try waits `leaderRetryMs` after it. */
  #lostAt = -Infinity

  constructor (deps: SchedulingLoopDeps) {
    this.#deps = deps
    this.#loop = new RetryingLoop(deps.options, deps.events, 'scheduling loop', async () => this.#iterate())
    deps.lock.onLost((reason) => {
      this.#lostAt = performance.now()
      deps.options.log.warn({ err: reason }, 'leader lock lost; claiming stopped')
      deps.events.emit('leader:lost', { nodeId: deps.options.nodeId, reason: reason.message })
      this.wake()
    })
  }

  /**
   * Milliseconds since the loop last made progress: 0 while it sleeps after a finished iteration;
   * otherwise the time since the current run of unfinished or failed iterations began (a claim
   * hung on a half-open connection, or failing again and again). The leader's heartbeat stops, and
   * the leader steps down, once this exceeds `leaderStaleMs`: a stuck leader is fenced like a frozen one.
   */
  get stalledMs (): number {
    return this.#loop.stalledMs
  }

  /** True while this process holds the leader lock. */
  get isLeader (): boolean {
    return this.#deps.lock.held
  }

  /** The earliest next run time seen at the last check (null: none, or not leader). */
  get nextRunTime (): Date | null {
    return this.#nextRunTime
  }

  start (): void {
    this.#loop.start()
  }

  /** Re-checks for due jobs now (after a change or a notification). */
  wake (): void {
    this.#loop.wake()
  }

  /** Stops claiming at once and resolves when the loop has left; releases the leader lock. */
  async stop (): Promise<void> {
    await this.#loop.stop()
    if (this.#deps.lock.held) {
      await this.#deps.lock.release()
      this.#deps.events.emit('leader:lost', { nodeId: this.#deps.options.nodeId, reason: 'released at shutdown' })
    }
  }

  /** One pass; returns how long to sleep before the next. */
  async #iterate (): Promise<number> {
    const { options, lock, session, executor, runner, events, plan, tracing } = this.#deps
    await session?.get()
    // Before the lock: the rows are this node's whether or not it still leads.
    await this.#deps.adoption?.adopt()
    if (!lock.held) {
      // A node that just lost the lock (fenced for a stale heartbeat, or its connection dropped)
      // waits like any standby before trying again, so a standby gets its turn.
      const sinceLost = performance.now() - this.#lostAt
      if (sinceLost < options.leaderRetryMs) return options.leaderRetryMs - sinceLost
      if (!(await lock.tryAcquire())) {
        this.#nextRunTime = null
        return options.leaderRetryMs
      }
      options.log.info({ nodeId: options.nodeId, lock: lock.kind }, 'leader lock acquired; this process runs the scheduler')
      events.emit('leader:acquired', { nodeId: options.nodeId })
    }
    await this.#deps.unscheduled?.check()
    // Who can run which task, for flagging (at most one heartbeat interval old).
    await this.#deps.clusterTasks.refreshIfOlderThan(options.nodeHeartbeatMs)
    const limit = options.batchSize
    const claimStartedAt = performance.now()
    const claims = await runner.claiming(async () => tracing.claim(options.nodeId, async () => options.store.claimDueJobs({
      now: options.clock?.() ?? null,
      limit,
      startLimit: options.execute ? executor.available : 0,
      tasks: this.#deps.tasks(),
      owner: options.nodeId,
      leaseMs: options.leaseMs,
      plan,
      timeoutMs: options.statementTimeoutMs,
      ...(lock.fence === undefined ? {} : { fence: lock.fence })
    })).catch((error: unknown) => {
      // It may have committed at the server all the same (COMMIT's answer lost): adopt what it claimed.
      this.#deps.adoption?.claimFailed()
      throw error
    }), (claimed) => runner.handleClaims(claimed))
    events.emit('scheduler:claimed', { durationMs: performance.now() - claimStartedAt, jobs: claims.length })
    if (claims.some((claim) => (claim.queued?.length ?? 0) > 0)) this.#deps.onQueued?.()
    if (claims.length === limit) return 0
    const { nextRunTime, now } = await options.store.getNextWakeup({ timeoutMs: options.statementTimeoutMs })
    this.#nextRunTime = nextRunTime
    if (nextRunTime === null) return options.pollIntervalMs
    const untilDue = nextRunTime.getTime() - now.getTime()
    if (untilDue <= 0) return claims.length === 0 ? CONTENDED_RETRY_MS : 0
    return Math.min(untilDue, options.pollIntervalMs)
  }
}
