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
import { ClaimAhead } from './claim-ahead.js'
import type { DatabaseClock } from './database-clock.js'
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
  /** Clears the missing-task flags of the jobs of these tasks (a live process has them now). */
  unflagTasks?: (tasks: string[]) => Promise<void>
  /** The database clock, read by every next-wake-up query; runs claimed ahead start by it. */
  databaseClock: DatabaseClock
}

/** With due jobs left but none claimable (locked by another claimer), wait this long before retrying. */
export const CONTENDED_RETRY_MS = 10

export class SchedulingLoop {
  readonly #deps: SchedulingLoopDeps
  readonly #loop: RetryingLoop
  #nextRunTime: Date | null = null
  /** `performance.now()` when the lock was last lost; the next try waits `leaderRetryMs` after it. */
  #lostAt = -Infinity
  readonly #ahead: ClaimAhead

  constructor (deps: SchedulingLoopDeps) {
    this.#deps = deps
    // Off with a test clock, for a store that claims due jobs only (it would find nothing early),
    // and with lock 'none': there every process plans, and the one with the widest window would win
    // every claim, where claiming at the fire time spreads the runs over the processes.
    this.#ahead = new ClaimAhead(deps.options.clock === null && deps.options.store.claimsAhead === true && deps.lock.kind !== 'none')
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
    const { options, lock, session, executor, runner, events, plan, tracing, databaseClock } = this.#deps
    const cycleStartedAt = performance.now()
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
    // Who can run which task, for flagging (at most one heartbeat interval old); the jobs of tasks
    // that appeared since lose their missing-task flags.
    const appeared = await this.#deps.clusterTasks.refresh()
    if (appeared.length > 0) await this.#deps.unflagTasks?.(appeared)
    const limit = options.batchSize
    // Claim ahead only with a free slot here, or as a plan-only leader. With every slot taken (a
    // burst: the last batch claimed ahead waits in the executor for its time), runs claimed ahead
    // could only be queued, and starting a queued run costs a second claim (the execute step's):
    // the bench's burst ran at 6,600/s with those claims ahead and 10,400/s without them. They are
    // claimed when they fall due instead, as by a scheduler that never claims ahead.
    const claimAhead = !options.execute || executor.available > 0
    const aheadMs = claimAhead ? this.#ahead.windowMs(databaseClock.known) : 0
    const claimStartedAt = performance.now()
    const claims = await runner.claiming(async () => tracing.claim(options.nodeId, async () => options.store.claimDueJobs({
      now: options.clock?.() ?? null,
      limit,
      aheadMs,
      // Read in this process's claim turn (the execute step may have just taken slots).
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
    const claimedAt = performance.now()
    events.emit('scheduler:claimed', { durationMs: claimedAt - claimStartedAt, jobs: claims.length })
    if (claims.some((claim) => (claim.queued?.length ?? 0) > 0)) this.#deps.onQueued?.()
    // Jobs within the window but left as they were (claimed ahead only with a free instance slot):
    // when a claim found nothing else, the loop sleeps until they fall due rather than claiming
    // them again at once.
    const deferredOnly = claims.length > 0 && !claims.some((claim) =>
      claim.running.length + claim.recorded.length + (claim.queued?.length ?? 0) + claim.claimedElsewhere.length > 0 || claim.flagged !== null)
    if (claims.length === limit && !deferredOnly) {
      this.#ahead.observe(claimedAt - cycleStartedAt)
      return 0
    }
    const sentAt = performance.now()
    const { nextRunTime, now } = await options.store.getNextWakeup({ timeoutMs: options.statementTimeoutMs })
    const answeredAt = performance.now()
    databaseClock.observe(now, sentAt, answeredAt)
    this.#ahead.observe(answeredAt - cycleStartedAt)
    this.#nextRunTime = nextRunTime
    if (nextRunTime === null) return options.pollIntervalMs
    const untilDue = nextRunTime.getTime() - now.getTime()
    if (untilDue <= 0) return claims.length === 0 ? CONTENDED_RETRY_MS : 0
    // Not claiming ahead (no free slot), the loop sleeps until the next job is due, not a window before it.
    const windowMs = claimAhead ? this.#ahead.windowMs(databaseClock.known) : 0
    // With only deferred jobs in the window, claim again after half a window (others may enter it
    // meanwhile), not at once; with nothing claimable (locked elsewhere, or not leading), back off.
    const untilClaim = deferredOnly ? Math.min(untilDue, Math.max(CONTENDED_RETRY_MS, windowMs / 2)) : untilDue - windowMs
    if (untilClaim <= 0 && claims.length === 0) return CONTENDED_RETRY_MS
    return Math.max(0, Math.min(untilClaim, options.pollIntervalMs))
  }
}
