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
}
