/**
 * The `ctx` a task handler receives (types.ts `TaskContext`): its job, the occurrence's run time,
 * execution id and attempt, the abort signal, a logger, and `em`, a fork of the host's entity
 * manager made on first use.
 */
import type { MikroORM } from '@mikro-orm/core'
import type { ExecutionRecord, JobRecord } from '../stores/job-store.js'
import type { SchedulerLogger, TaskContext } from '../types.js'

/**
 * `abort.signal` and `log()` are read when the handler first reads `ctx.signal` / `ctx.log` (a
 * handler that never does costs neither an `AbortController` nor a captured-log wrapper). Both stay
 * assignable, as plain properties would be (`ctx.log = ctx.log.child(…)` in a wrapper).
 * @throws Error from `ctx.em` when the scheduler has no ORM.
 */
export function taskContext (orm: MikroORM | null, job: JobRecord, execution: ExecutionRecord, abort: { readonly signal: AbortSignal }, log: () => SchedulerLogger): TaskContext {
  let em: TaskContext['em'] | undefined
  let logger: SchedulerLogger | undefined
  let signal: AbortSignal | undefined
  return {
    job,
    runTime: execution.runTime,
    executionId: execution.id,
    attempt: execution.attempt,
    get signal () {
      return signal ?? abort.signal
    },
    set signal (value) {
      signal = value
    },
    get log () {
      logger ??= log()
      return logger
    },
    set log (value) {
      logger = value
    },
    get em () {
      if (orm === null) throw new Error('ctx.em needs an ORM: create the scheduler with { orm } (the plugin always does)')
      em ??= orm.em.fork()
      return em
    }
  }
}
