/**
 * An execution the execution runner holds, from its submission until its outcome is written or
 * given up (execution-runner.ts).
 */
import type { ExecutionRecord, JobRecord } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'

/**
 * An execution this runner holds. Its logger (a child of the scheduler's with the job and execution
 * ids) is made on first use: most executions log nothing, and a pino child costs an allocation and
 * its bindings' serialisation per execution.
 */
export class HeldExecution {
  /** Its lease was lost: not renewed again, reported once. */
  leaseLost = false
  #log: SchedulerLogger | null = null

  constructor (readonly job: JobRecord, readonly execution: ExecutionRecord, readonly parentLog: SchedulerLogger) {}

  get log (): SchedulerLogger {
    this.#log ??= this.parentLog.child({ jobId: this.job.id, executionId: this.execution.id })
    return this.#log
  }

  /**
   * Logs a debug line through the execution's logger, made only when the scheduler's logger keeps
   * debug lines (pino's `isLevelEnabled`; a logger without it, or whose answer throws, is assumed to).
   */
  debug (fields: Record<string, unknown>, message: string): void {
    let enabled = true
    try {
      if (typeof this.parentLog.isLevelEnabled === 'function') enabled = this.parentLog.isLevelEnabled('debug') !== false
    } catch {}
    if (enabled) this.log.debug(fields, message)
  }
}
