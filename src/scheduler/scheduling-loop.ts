/**
 * The scheduling loop (DESIGN.md "Scheduling protocol"): take or keep the leader lock, claim due
 * jobs in one transaction, hand the running executions to the executor, then sleep until the next
 * run time, a wake-up notification, a free executor slot, or `pollIntervalMs`, whichever is first.
 *
 * It never throws into the host: faults are logged, emitted as `scheduler:error`, and retried
 * with jittered exponential backoff.
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import type { LeaderLock } from '../locks/leader-lock.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { ClaimPlanner } from '../stores/job-store.js'
import { Backoff } from './backoff.js'
import type { DedicatedSession } from './dedicated-session.js'
import type { SchedulerEventBus } from './events.js'
import type { ExecutionRunner } from './execution-runner.js'
import type { Executor } from './executor.js'
import type { OrphanAdoption } from './orphan-adoption.js'
import type { UnscheduledJobs } from './unscheduled-jobs.js'
import { Waker } from './waker.js'
import { healMissingTable } from './missing-table.js'

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
}

/** With due jobs left but none claimable (locked by another claimer), wait this long before retrying. */
const CONTENDED_RETRY_MS = 10

export class SchedulingLoop {
  readonly #deps: SchedulingLoopDeps
  readonly #waker = new Waker()
  readonly #backoff: Backoff
  #running = false
  #done: Promise<void> = Promise.resolve()
  #nextRunTime: Date | null = null
  /** `performance.now()` when the lock was last lost; the next try waits `leaderRetryMs` after it. */
  #lostAt = -Infinity
  /** `performance.now()` when the current run of unfinished or failed iterations began; null after a finished one. */
  #stuckSince: number | null = null

  constructor (deps: SchedulingLoopDeps) {
    this.#deps = deps
    this.#backoff = new Backoff({ baseMs: 250, maxMs: 30_000, random: deps.options.random })
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
    return this.#stuckSince === null ? 0 : performance.now() - this.#stuckSince
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
    if (this.#running) return
    this.#running = true
    this.#done = this.#run()
  }

  /** Re-checks for due jobs now (after a change, a notification, or a freed executor slot). */
  wake (): void {
    this.#waker.wake()
  }

  /** Stops claiming at once and resolves when the loop has left; releases the leader lock. */
  async stop (): Promise<void> {
    this.#running = false
    this.wake()
    await this.#done
    if (this.#deps.lock.held) {
      await this.#deps.lock.release()
      this.#deps.events.emit('leader:lost', { nodeId: this.#deps.options.nodeId, reason: 'released at shutdown' })
    }
  }

  async #run (): Promise<void> {
    const { options, events } = this.#deps
    while (this.#running) {
      try {
        this.#stuckSince ??= performance.now()
        const delayMs = await this.#iterate()
        this.#stuckSince = null
        this.#backoff.reset()
        if (delayMs > 0 && this.#running) await this.#waker.sleep(delayMs)
      } catch (error) {
        const delayMs = this.#backoff.next()
        options.log.error({ err: error, retryInMs: delayMs }, 'scheduler loop failed; retrying')
        events.emit('scheduler:error', { error: error as Error, during: 'scheduling loop' })
        await healMissingTable(options.store, error, options.log, (failure) => {
          options.log.error({ err: failure, cause: error }, `a table of the scheduler is missing (${(error as Error).message}) and was not installed again: ${failure.message}`)
          events.emit('scheduler:error', { error: failure, during: 'reinstalling missing tables' })
        })
        if (this.#running) await this.#waker.sleep(delayMs)
      }
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
    if (executor.available === 0) return options.pollIntervalMs
    const limit = Math.min(options.batchSize, executor.available)
    const claimStartedAt = performance.now()
    const claims = await tracing.claim(options.nodeId, async () => options.store.claimDueJobs({
      now: options.clock?.() ?? null,
      limit,
      owner: options.nodeId,
      leaseMs: options.leaseMs,
      plan,
      timeoutMs: options.statementTimeoutMs,
      ...(lock.fence === undefined ? {} : { fence: lock.fence })
    }).catch((error: unknown) => {
      // It may have committed at the server all the same (COMMIT's answer lost): adopt what it claimed.
      this.#deps.adoption?.claimFailed()
      throw error
    }))
    events.emit('scheduler:claimed', { durationMs: performance.now() - claimStartedAt, jobs: claims.length })
    runner.handleClaims(claims)
    if (claims.length === limit) return 0
    const { nextRunTime, now } = await options.store.getNextWakeup({ timeoutMs: options.statementTimeoutMs })
    this.#nextRunTime = nextRunTime
    if (nextRunTime === null) return options.pollIntervalMs
    const untilDue = nextRunTime.getTime() - now.getTime()
    if (untilDue <= 0) return claims.length === 0 ? CONTENDED_RETRY_MS : 0
    return Math.min(untilDue, options.pollIntervalMs)
  }
}
