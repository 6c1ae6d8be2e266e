/**
 * The execute loop, the execute step (DESIGN.md "Scheduling protocol" 3), run by every process with
 * `execute: true`, leader or not: while its executor has free slots, it starts `queued` executions
 * of the tasks this process has registered, oldest run time first (`JobStore.claimQueuedRuns`:
 * `FOR UPDATE SKIP LOCKED`, max instances re-checked, late runs recorded `missed`), and hands them
 * to the executor. It sleeps until a run may start (a retry's backoff), a `NOTIFY` that runs were
 * queued, a freed executor slot, or `pollIntervalMs`, whichever is first.
 *
 * So capacity grows with processes: the leader plans, every worker executes. It never throws into
 * the host (`retrying-loop.ts`).
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { DedicatedSession } from './dedicated-session.js'
import type { SchedulerEventBus } from './events.js'
import type { ExecutionRunner } from './execution-runner.js'
import type { Executor } from './executor.js'
import type { OrphanAdoption } from './orphan-adoption.js'
import { RetryingLoop } from './retrying-loop.js'
import { CONTENDED_RETRY_MS } from './scheduling-loop.js'

export interface ExecuteLoopDeps {
  options: ResolvedSchedulerOptions
  /** The LISTEN connection (queued-run notifications arrive on it); null for stores without one. */
  session: DedicatedSession | null
  executor: Executor
  runner: ExecutionRunner
  events: SchedulerEventBus
  tracing: SchedulerTracing
  /** The task names registered in this process now (tasks may be registered after start). */
  tasks: () => string[]
  /** Runs what a failed claim committed after all (scheduler/orphan-adoption.ts). */
  adoption?: OrphanAdoption
}

/** The longest wait between passes that find startable runs locked by other claimers. */
const MAX_CONTENDED_RETRY_MS = 1000

export class ExecuteLoop {
  readonly #deps: ExecuteLoopDeps
  readonly #loop: RetryingLoop
  /** Milliseconds the last contended pass waited (0: the last pass was not contended). */
  #contended = 0
  /** The last pass had no free executor slot, or found a due run waiting for an instance slot. */
  #wantsSlot = true
  /** A pass is under way. */
  #inPass = false
  /** The last claim started as many runs as its limit allowed: the next pass claims without probing first. */
  #backlog = false

  constructor (deps: ExecuteLoopDeps) {
    this.#deps = deps
    this.#loop = new RetryingLoop(deps.options, deps.events, 'execute loop', async () => {
      this.#inPass = true
      try {
        return await this.#iterate()
      } finally {
        this.#inPass = false
      }
    })
  }

  start (): void {
    this.#loop.start()
  }

  /** Looks for startable queued runs now (runs were queued, or jobs changed). */
  wake (): void {
    this.#loop.wake()
  }

  /**
   * A slot freed: an executor slot here, or an instance slot in the database (an outcome written).
   * Looks again only when the last pass found a run waiting for one, or had no free executor slot:
   * with nothing queued, the many slots a busy process frees cost no query.
   */
  slotFreed (): void {
    // During a pass the answer is not known yet: the wake is remembered, and the next pass looks.
    if (this.#wantsSlot || this.#inPass) this.#loop.wake()
  }

  /** Stops starting runs and resolves when the loop has left (running executions are the executor's to drain). */
  async stop (): Promise<void> {
    await this.#loop.stop()
  }

  /** One pass; returns how long to sleep before the next. */
  async #iterate (): Promise<number> {
    const { options, executor, runner, events, tracing } = this.#deps
    // Opens (or reopens, after a drop) the connection that LISTENs for queued runs.
    await this.#deps.session?.get()
    await this.#deps.adoption?.adopt()
    const tasks = this.#deps.tasks()
    // A freed slot wakes the loop; registering a task does not, so a worker without tasks polls.
    this.#wantsSlot = executor.available === 0
    if (executor.available === 0 || tasks.length === 0) return options.pollIntervalMs
    if (this.#backlog) {
      // The last claim took as many runs as it could: more are likely waiting, so claim at once
      // (a backlog drains one claim per freed slot, and a probe before each would add a statement).
      this.#wantsSlot = true
    } else {
      // One statement first, outside any transaction: a pass that finds nothing must cost little.
      const { nextStartTime, waitingForSlot, now } = await options.store.getNextQueuedStart(tasks, { timeoutMs: options.statementTimeoutMs })
      this.#wantsSlot = waitingForSlot
      if (nextStartTime === null) return options.pollIntervalMs
      // The claim runs at the injected clock when there is one (tests); so is "due" judged.
      const untilStart = nextStartTime.getTime() - (options.clock?.() ?? now).getTime()
      if (untilStart > 0) return Math.min(untilStart, options.pollIntervalMs)
    }
    let limit = 0
    const claimStartedAt = performance.now()
    const claims = await runner.claiming(async () => {
      // Read in this process's claim turn: the plan step may have just taken slots.
      limit = Math.min(options.batchSize, executor.available)
      if (limit === 0) return []
      return tracing.claim(options.nodeId, async () => options.store.claimQueuedRuns({
        now: options.clock?.() ?? null,
        limit,
        owner: options.nodeId,
        leaseMs: options.leaseMs,
        tasks,
        timeoutMs: options.statementTimeoutMs
      })).catch((error: unknown) => {
        // It may have committed at the server all the same (COMMIT's answer lost): adopt what it started.
        this.#deps.adoption?.claimFailed()
        throw error
      })
    }, (claimed) => runner.handleClaims(claimed))
    if (limit === 0) return options.pollIntervalMs
    events.emit('scheduler:claimed', { durationMs: performance.now() - claimStartedAt, jobs: claims.length })
    const handled = claims.reduce((sum, claim) => sum + claim.running.length + claim.recorded.length, 0)
    const wasBacklog = this.#backlog
    this.#backlog = handled >= limit
    if (handled > 0) {
      this.#contended = 0
      return 0
    }
    // A claim without a probe that found nothing: the backlog has drained; probe from now on.
    if (wasBacklog) return 0
    // Startable runs, none started: their jobs are locked by another claimer (or a host
    // transaction holding a job row). Back off, doubling up to a second, rather than spin.
    this.#contended = Math.min(this.#contended * 2 || CONTENDED_RETRY_MS, MAX_CONTENDED_RETRY_MS)
    return this.#contended
  }
}
