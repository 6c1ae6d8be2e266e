/**
 * Hands claimed executions to the executor and records their outcomes: builds the handler's
 * `ctx`, applies jitter, writes the terminal status (retrying database faults), and emits the
 * job events. Used by the scheduling loop and by `runJob`.
 */
import type { MikroORM } from '@mikro-orm/core'
import type { ClaimedJob, ExecutionOutcome, ExecutionRecord, JobRecord, JobStore } from '../stores/job-store.js'
import type { SchedulerLogger, TaskContext, TaskHandler } from '../types.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { SchedulerEventBus } from './events.js'
import type { Executor } from './executor.js'
import { OutcomeWriter } from './outcome-writer.js'

export interface ExecutionRunnerDeps {
  store: JobStore
  executor: Executor
  events: SchedulerEventBus
  log: SchedulerLogger
  orm: MikroORM | null
  tasks: ReadonlyMap<string, TaskHandler>
  clock: (() => Date) | null
  random: () => number
  /** Wraps each execution in a span. */
  tracing: SchedulerTracing
}

export class ExecutionRunner {
  readonly #deps: ExecutionRunnerDeps
  readonly #outcomes: OutcomeWriter

  constructor (deps: ExecutionRunnerDeps) {
    this.#deps = deps
    this.#outcomes = new OutcomeWriter(deps.store, deps.clock, deps.random)
  }

  /** Logs and emits what a claim recorded, and submits its running executions. */
  handleClaims (claims: ClaimedJob[]): void {
    const { log, events } = this.#deps
    for (const claim of claims) {
      const jobId = claim.job.id
      if (claim.flagged !== null) log.warn({ jobId, lastError: claim.flagged }, 'job cannot run and was flagged; it is kept and retried when fixed')
      if (claim.claimedElsewhere.length > 0) {
        log.info({ jobId, runTimes: claim.claimedElsewhere }, 'occurrences claimed elsewhere (another process recorded them first); skipped')
      }
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
      for (const execution of claim.running) this.submit(claim.job, execution)
    }
  }

  /** Runs one `running` execution of `job` in the executor. */
  submit (job: JobRecord, execution: ExecutionRecord): void {
    const { executor, events, tasks, log } = this.#deps
    const handler = tasks.get(job.task)
    const executionLog = log.child({ jobId: job.id, executionId: execution.id })
    events.emit('job:submitted', { jobId: job.id, task: job.task, executionId: execution.id, runTime: execution.runTime })
    const span = this.#deps.tracing.execution(job, execution)
    executor.submit({
      id: execution.id,
      timeoutMs: job.timeoutMs,
      run: async (signal) => {
        if (handler === undefined) throw new Error(`task '${job.task}' is not registered in this process`)
        return span.run(() => handler(this.#context(job, execution, signal, executionLog), ...job.args))
      },
      onDone: async (outcome) => {
        span.end(outcome)
        return this.#record(job, execution, outcome, executionLog)
      }
    })
  }

  #context (job: JobRecord, execution: ExecutionRecord, signal: AbortSignal, log: SchedulerLogger): TaskContext {
    const orm = this.#deps.orm
    let em: TaskContext['em'] | undefined
    return {
      job,
      runTime: execution.runTime,
      executionId: execution.id,
      signal,
      log,
      get em () {
        if (orm === null) throw new Error('ctx.em needs an ORM: create the scheduler with { orm } (the plugin always does)')
        em ??= orm.em.fork()
        return em
      }
    }
  }

  async #record (job: JobRecord, execution: ExecutionRecord, outcome: ExecutionOutcome, log: SchedulerLogger): Promise<void> {
    try {
      const finished = await this.#outcomes.write(execution.id, outcome)
      if (finished === null) {
        log.warn({ status: outcome.status }, 'execution was no longer running when it finished (its lease expired and it was marked abandoned); outcome not recorded')
        return
      }
      this.#announce(job, finished, log)
    } catch (error) {
      log.error({ err: error, status: outcome.status }, 'could not record the execution outcome; its lease will expire and mark it abandoned')
      this.#deps.events.emit('scheduler:error', { error: error as Error, during: 'record outcome' })
    }
  }

  #announce (job: JobRecord, execution: ExecutionRecord, log: SchedulerLogger): void {
    const { events } = this.#deps
    const payload = { jobId: job.id, task: job.task, execution }
    switch (execution.status) {
      case 'success':
        log.debug({ durationMs: execution.durationMs }, 'job executed')
        events.emit('job:executed', payload)
        break
      case 'abandoned':
        log.warn({ exception: execution.exception }, 'execution cut off')
        events.emit('job:abandoned', payload)
        break
      default:
        log.warn({ status: execution.status, exception: execution.exception }, 'job raised an exception')
        events.emit('job:error', payload)
    }
  }
}
