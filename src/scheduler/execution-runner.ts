/**
 * Hands claimed executions to the executor and records their outcomes: builds the handler's
 * `ctx`, writes the terminal status through the outcome writer, and emits the job events. Used by
 * the scheduling loop and by `runJob`.
 *
 * It holds an execution from submission until its outcome is written (or given up): the lease
 * keeper renews the leases of every held execution (`heldIds()`), not only of running handlers,
 * and tells the runner when one was lost (`leaseLost()`), which aborts its handler's signal.
 */
import type { MikroORM } from '@mikro-orm/core'
import type { ClaimedJob, ExecutionOutcome, ExecutionRecord, JobRecord, JobStore } from '../stores/job-store.js'
import type { SchedulerLogger, TaskHandler } from '../types.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { SchedulerEventBus } from './events.js'
import type { Executor } from './executor.js'
import { DatabaseClock } from './database-clock.js'
import { HeldExecution as Held } from './held-execution.js'
import { LogCapture } from './log-capture.js'
import { taskContext } from './task-context.js'
import { OutcomeWriter, type WriteResult } from './outcome-writer.js'
import { announceRetry, nextAttemptDelayMs } from './retries.js'

export interface ExecutionRunnerDeps {
  store: JobStore
  executor: Executor
  events: SchedulerEventBus
  log: SchedulerLogger
  orm: MikroORM | null
  tasks: ReadonlyMap<string, TaskHandler>
  clock: (() => Date) | null
  random: () => number
  /** Most outcomes waiting to be written (`maxPendingOutcomes`). */
  maxPendingOutcomes: number
  /** Milliseconds each outcome write may take (`statementTimeoutMs`). */
  statementTimeoutMs?: number
  /** Wraps each execution in a span. */
  tracing: SchedulerTracing
  /** Called after outcomes were written (their instance slots are free: queued runs may start). */
  onOutcomesWritten?: () => void
}

/** Why a catch-up occurrence waiting for its turn was not run at shutdown. */
const NOT_STARTED_AT_SHUTDOWN = 'not started: the scheduler shut down before this overdue occurrence\'s turn in its catch-up batch came'

/**
 * How many executions whose outcome was lost the runner remembers, so orphan adoption never runs
 * one again (their rows read `running` until their lease expires, which is far sooner than this
 * many more losses).
 */
const MAX_OUTCOME_LOST = 100_000

/** The reason a handler's signal is aborted with when its execution's lease was lost. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError'
}

export class ExecutionRunner {
  readonly #deps: ExecutionRunnerDeps
  readonly #outcomes: OutcomeWriter
  /**
   * The database clock as this process reads it (the plan step feeds it readings): runs claimed
   * ahead start by it.
   */
  readonly databaseClock: DatabaseClock
  readonly #held = new Map<number, Held>()
  #closing = false
  /** Set at shutdown: catch-up batches start no further occurrence. */
  #stopping = false
  #seen: Set<number> | null = null
  #claimsInFlight = 0
  #claimsBegun = 0
  /** Settles when the claim under way (if any) is done: claims of this process take turns. */
  #claimTurn: Promise<void> = Promise.resolve()
  #lostAtClose: Array<{ executionId: number, jobId: string, status: string }> = []
  /** Executions whose outcome this runner gave up on (insertion order; the oldest forgotten past `MAX_OUTCOME_LOST`). */
  readonly #outcomeLost = new Set<number>()

  constructor (deps: ExecutionRunnerDeps) {
    this.#deps = deps
    this.databaseClock = new DatabaseClock(deps.clock)
    this.#outcomes = new OutcomeWriter({
      store: deps.store,
      clock: deps.clock,
      random: deps.random,
      maxPending: deps.maxPendingOutcomes,
      statementTimeoutMs: deps.statementTimeoutMs,
      ...(deps.onOutcomesWritten === undefined ? {} : { onWritten: deps.onOutcomesWritten }),
      onWriteError: (error, pending) => {
        deps.log.warn({ err: error, pending }, 'could not write execution outcomes; they are kept and retried, and their leases renewed')
        deps.events.emit('scheduler:error', { error, during: 'record outcome' })
      }
    })
  }

  /** Executions this process vouches for: handlers running, and outcomes not yet written, minus those whose lease was lost. */
  heldIds (): number[] {
    return [...this.#held.entries()].filter(([, held]) => !held.leaseLost).map(([id]) => id)
  }

  /**
   * Starts (or, with false, stops) remembering every execution id this runner is given, held or
   * long finished: orphan adoption must never take an execution this process has run for one it
   * never saw, whatever snapshot its query read. Starting seeds the memory with every execution
   * held now, so one finished after an adoption query's snapshot is still known.
   */
  rememberSeen (on: boolean): void {
    if (on) {
      this.#seen ??= new Set()
      for (const id of this.#held.keys()) this.#seen.add(id)
    } else {
      this.#seen = null
    }
  }

  /**
   * Whether this runner holds execution `id` now, was given it while remembering (see
   * `rememberSeen`), or gave up on its outcome (the row may still read `running`: its handler ran).
   */
  wasGiven (id: number): boolean {
    return this.#held.has(id) || this.#seen?.has(id) === true || this.#outcomeLost.has(id)
  }

  /**
   * Claims under way (the plan step's, the execute step's, `runJob(…, { inProcess: true })`'s): the
   * executions they commit are not held until they return, so orphan adoption must not take them.
   */
  get claimsInFlight (): number {
    return this.#claimsInFlight
  }

  /** Claims begun so far (a count that only grows). */
  get claimsBegun (): number {
    return this.#claimsBegun
  }

  /**
   * Runs `claim` and gives what it claimed to `take` (which submits it), counted in `claimsInFlight`
   * until both are done: no moment lies between the claim's commit and its executions being held
   * in which orphan adoption could take them (see orphan-adoption.ts). Claims of this process run
   * one at a time (the plan step, the execute step and run-now each read the executor's free slots
   * when they begin), so together they never start more than `maxConcurrency` handlers.
   */
  async claiming<T> (claim: () => Promise<T>, take: (claimed: T) => void): Promise<T> {
    this.#claimsInFlight++
    this.#claimsBegun++
    const previous = this.#claimTurn
    let done!: () => void
    this.#claimTurn = new Promise<void>((resolve) => { done = resolve })
    try {
      await previous
      const claimed = await claim()
      take(claimed)
      return claimed
    } finally {
      done()
      this.#claimsInFlight--
    }
  }

  /** Claims an immediate run of `job` with `claim` and runs it here when it is `running`. */
  async claimAndRun (job: JobRecord, claim: () => Promise<ExecutionRecord | null>): Promise<ExecutionRecord | null> {
    return this.claiming(claim, (execution) => {
      if (execution !== null && execution.status === 'running') this.submit(job, execution)
    })
  }

  /** Ids of the outcomes waiting to be written. */
  pendingOutcomeIds (): number[] {
    return this.#outcomes.pendingIds()
  }

  /**
   * The lease keeper could not renew these executions' leases (they expired, or another process
   * marked them abandoned, or it could not be renewed before it ran out): abort their handlers'
   * signals and emit `job:lease_lost`, once each. `cause` says which, in the reason's words.
   */
  leaseLost (ids: number[], cause = 'it expired, or another process marked it abandoned'): void {
    const { executor, events } = this.#deps
    for (const id of ids) {
      const held = this.#held.get(id)
      if (held === undefined || held.leaseLost) continue
      held.leaseLost = true
      const reason = `lease lost: execution ${id} is no longer running under this process's lease (${cause}); another attempt may run the occurrence`
      const running = executor.abort(id, new LeaseLostError(reason))
      held.log.warn({ runTime: held.execution.runTime, handlerRunning: running }, reason)
      events.emit('job:lease_lost', { jobId: held.job.id, task: held.job.task, executionId: id, runTime: held.execution.runTime, reason })
    }
  }

  /** Logs and emits what a claim recorded, and submits its running executions. */
  handleClaims (claims: ClaimedJob[]): void {
    const { log, events } = this.#deps
    for (const claim of claims) {
      const jobId = claim.job.id
      if (claim.flagged !== null) log.warn({ jobId, lastError: claim.flagged }, 'job cannot run and was flagged; it is kept and retried when fixed')
      if (claim.claimedElsewhere.length > 0) log.info({ jobId, runTimes: claim.claimedElsewhere }, 'occurrences claimed elsewhere (another process recorded them first); skipped')
      if (claim.coalesced > 0) log.info({ jobId, coalesced: claim.coalesced }, 'overdue occurrences coalesced into one')
      for (const execution of claim.recorded) {
        if (execution.status === 'missed') {
          log.warn({ jobId, runTime: execution.runTime }, 'occurrence missed: later than misfireGraceTime')
          events.emit('job:missed', { jobId, task: claim.job.task, execution })
        } else {
          log.warn({ jobId, runTime: execution.runTime }, 'occurrence skipped: maxInstances executions already running')
          events.emit('job:max_instances', { jobId, task: claim.job.task, execution })
        }
      }
      // Runs claimed ahead (with a startAfter) wait for it, each an instance of its own.
      const ahead = claim.ahead === true ? claim.running.filter((execution) => execution.startAfter !== null) : []
      const due = ahead.length > 0 ? claim.running.filter((execution) => execution.startAfter === null) : claim.running
      if (claim.catchUp === true && due.length > 1) this.#submitBatch(claim.job, due)
      else for (const execution of due) this.submit(claim.job, execution)
      for (const execution of ahead) this.submit(claim.job, execution, undefined, () => this.#waitMs(execution))
    }
  }

  /**
   * Runs a catch-up batch: the occurrences one after another in one executor slot, in run-time
   * order, each with its own row, handler call and outcome (APScheduler `run_job`). The rows
   * waiting for their turn are held (their leases renewed); one whose lease is lost meanwhile is
   * skipped; at shutdown the rest are recorded `abandoned`.
   */
  #submitBatch (job: JobRecord, executions: ExecutionRecord[]): void {
    const ordered = [...executions].sort((a, b) => a.runTime.getTime() - b.runTime.getTime())
    for (const execution of ordered) this.#hold(job, execution)
    const next = (i: number): void => {
      const execution = ordered[i]
      if (execution === undefined) return
      const held = this.#held.get(execution.id)
      if (held === undefined || held.leaseLost) {
        this.#held.delete(execution.id)
        next(i + 1)
        return
      }
      if (this.#stopping) {
        for (const rest of ordered.slice(i)) {
          const restHeld = this.#held.get(rest.id)
          if (restHeld !== undefined) void this.#record(job, rest, { status: 'abandoned', exception: NOT_STARTED_AT_SHUTDOWN }, restHeld)
        }
        return
      }
      this.submit(job, execution, () => next(i + 1))
    }
    next(0)
  }

  /** Milliseconds until a run claimed ahead may start: its `startAfter` by the database clock. */
  #waitMs ({ startAfter: at }: ExecutionRecord): number {
    return at === null ? 0 : this.databaseClock.untilMs(at) ?? Math.max(0, at.getTime() - Date.now())
  }

  /** Stops holding these executions (handed to another process at shutdown): no lease renewal, no outcome. */
  forget (ids: number[]): void {
    for (const id of ids) this.#held.delete(id)
  }

  /** At shutdown, before the executor drains: catch-up batches start nothing more. */
  stopStarting (): void {
    this.#stopping = true
  }

  #hold (job: JobRecord, execution: ExecutionRecord): Held {
    this.#seen?.add(execution.id)
    const held = new Held(job, execution, this.#deps.log)
    this.#held.set(execution.id, held)
    return held
  }

  /**
   * Runs one `running` execution of `job` in the executor, once `waitMs` says 0 (a run claimed ahead);
   * `then` (a catch-up batch's next occurrence) is called as soon as the handler settles, before
   * its outcome is written.
   */
  submit (job: JobRecord, execution: ExecutionRecord, then?: () => void, waitMs?: () => number): void {
    const { executor, events, tasks } = this.#deps
    const handler = tasks.get(job.task)
    const held = this.#held.get(execution.id) ?? this.#hold(job, execution)
    // The handler's lines go to the host's logger and, when the job captures logs, into its row
    // too; the capture is made when the handler first reads `ctx.log` (most never log).
    let capture: LogCapture | null = null
    // Once the outcome is taken, nothing more is kept: a handler first reading ctx.log after it
    // (detached work, a timed-out handler) gets the plain logger, not a capture nobody reads.
    let settled = false
    const handlerLog = (): SchedulerLogger => {
      if (!job.captureLogs || settled) return held.log
      capture ??= new LogCapture(held.log)
      return capture.logger
    }
    if (events.listening('job:submitted')) events.emit('job:submitted', { jobId: job.id, task: job.task, executionId: execution.id, runTime: execution.runTime })
    const span = this.#deps.tracing.execution(job, execution)
    executor.submit({
      id: execution.id,
      timeoutMs: job.timeoutMs,
      ...(waitMs === undefined ? {} : { waitMs }),
      run: async (abort) => {
        if (handler === undefined) throw new Error(`task '${job.task}' is not registered in this process`)
        return span.run(() => handler(taskContext(this.#deps.orm, job, execution, abort, handlerLog), ...job.args))
      },
      onDone: async (outcome) => {
        try {
          span.end(outcome)
        } catch {}
        then?.()
        settled = true
        let logsJson: string | null = null
        try {
          logsJson = (capture as LogCapture | null)?.json() ?? null
        } catch {}
        return this.#record(job, execution, logsJson === null ? outcome : { ...outcome, logsJson }, held)
      }
    })
  }

  /** Accepts outcomes again after `close()`. */
  open (): void {
    this.#closing = false
    this.#stopping = false
    this.#outcomes.reopen()
  }

  /**
   * At shutdown, after the executor has drained: waits up to `timeoutMs` for outcomes still
   * waiting to be written, then gives up on the rest, logs them and emits `scheduler:outcomes_lost`.
   * Returns the ids of the executions whose outcome was lost.
   */
  async close (timeoutMs: number): Promise<number[]> {
    this.#closing = true
    await this.#outcomes.close(timeoutMs)
    await this.#deps.executor.finished()
    const lost = this.#lostAtClose.splice(0)
    if (lost.length > 0) {
      const reason = `the database did not accept these outcomes within ${timeoutMs} ms of shutdown (shutdownTimeoutMs, or what the shutdown's time limit left); their rows stay running until their leases expire, then become abandoned`
      this.#deps.log.error({ lost }, `scheduler shut down with ${lost.length} execution outcome(s) unwritten: ${reason}`)
      this.#deps.events.emit('scheduler:outcomes_lost', { executions: lost, reason })
    }
    return lost.map((entry) => entry.executionId)
  }

  async #record (job: JobRecord, execution: ExecutionRecord, ended: ExecutionOutcome, held: Held): Promise<void> {
    let result: WriteResult
    const outcome = { ...ended, retryDelayMs: nextAttemptDelayMs(job, execution.attempt, ended.status, this.#deps.random) }
    try {
      result = await this.#outcomes.write(execution.id, outcome, execution)
    } finally {
      this.#held.delete(execution.id)
    }
    const { events } = this.#deps
    switch (result.kind) {
      case 'written':
        this.#announce(job, result.execution, held)
        break
      case 'late':
        held.log.warn({ status: outcome.status, exception: outcome.exception ?? null, abandoned: result.execution.exception },
          'the execution finished after it was marked abandoned (its lease expired); its outcome is recorded as late_status')
        events.emit('job:late_outcome', { jobId: job.id, task: job.task, execution: result.execution })
        break
      case 'gone':
        held.log.warn({ status: outcome.status, exception: outcome.exception ?? null },
          'the execution was no longer running when it finished (already finished, deleted, or its late outcome recorded); this outcome was not written')
        break
      case 'lost': {
        this.#outcomeLost.add(execution.id)
        if (this.#outcomeLost.size > MAX_OUTCOME_LOST) this.#outcomeLost.delete(this.#outcomeLost.values().next().value as number)
        const entry = { executionId: execution.id, jobId: job.id, status: outcome.status }
        if (this.#closing) {
          this.#lostAtClose.push(entry)
        } else {
          held.log.error({ status: outcome.status, exception: outcome.exception ?? null, reason: result.reason }, 'execution outcome lost; its lease will expire and mark it abandoned')
          events.emit('scheduler:outcomes_lost', { executions: [entry], reason: result.reason })
        }
      }
    }
  }

  #announce (job: JobRecord, execution: ExecutionRecord, held: Held): void {
    const { events } = this.#deps
    const payload = { jobId: job.id, task: job.task, execution }
    if (execution.nextAttemptAt !== null) announceRetry(events, held.log, payload)
    switch (execution.status) {
      case 'success':
        held.debug({ durationMs: execution.durationMs }, 'job executed')
        events.emit('job:executed', payload)
        break
      case 'abandoned':
        held.log.warn({ exception: execution.exception }, 'execution cut off')
        events.emit('job:abandoned', payload)
        break
      default:
        held.log.warn({ status: execution.status, exception: execution.exception }, 'job raised an exception')
        events.emit('job:error', payload)
    }
  }
}
