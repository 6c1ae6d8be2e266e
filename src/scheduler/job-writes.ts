/**
 * The job writes behind `Scheduler`'s public methods (add, modify, pause, resume, remove, run now):
 * each validates its input before anything is written, writes through the job store with its audit
 * context, emits its job event and wakes the leader (`wakeup`: here, and by NOTIFY elsewhere).
 * `scheduler.ts` keeps the documented public API and delegates here.
 */
import { JobNotFoundError, SchedulerStateError } from '../errors.js'
import type { ResolvedSchedulerOptions } from '../options.js'
import type { AuditContext } from '../stores/audit.js'
import type { ExecutionRecord, JobPatch, JobRecord } from '../stores/job-store.js'
import type { JobChanges, JobDefinition } from '../types.js'
import type { AuditTrail, AuditOptions } from './audit.js'
import type { SchedulerEventBus } from './events.js'
import type { ExecutionRunner } from './execution-runner.js'
import { firstRunTime, scheduleNewJobs, validateChanges, validateDefinition } from './job-input.js'
import { nextOccurrence } from './next-occurrence.js'
import { updateJobChecked } from './read-modify-write.js'
import type { TaskRegistry } from './task-registry.js'
import type { TriggerCache } from './trigger-cache.js'

export interface JobWritesDeps {
  options: ResolvedSchedulerOptions
  tasks: TaskRegistry
  triggers: TriggerCache
  events: SchedulerEventBus
  audit: AuditTrail
  runner: ExecutionRunner
  /** Wakes the leader: this process's loop, and the others by NOTIFY. */
  wakeup: () => void
  /** The scheduler's clock. */
  now: () => Promise<Date>
  /** Whether the scheduler is started in this process (run-now in process needs it). */
  running: () => boolean
}

export class JobWrites {
  readonly #deps: JobWritesDeps

  constructor (deps: JobWritesDeps) {
    this.#deps = deps
  }

  async add (definitions: JobDefinition[], replaceExisting: boolean, options: AuditOptions): Promise<JobRecord[]> {
    const { options: { store, jobDefaults, random }, tasks, events } = this.#deps
    const audit = this.#deps.audit.context('added', options)
    const validated = definitions.map((definition) => validateDefinition(definition, jobDefaults))
    for (const { record } of validated) tasks.require(record.task)
    const records = scheduleNewJobs(validated, await this.#deps.now(), random)
    const [single] = records
    const added = records.length === 1 && single !== undefined
      ? [await store.addJob(single, { replaceExisting, audit })]
      : await store.addJobs(records, { audit })
    for (const job of added) events.emit('job:added', { job })
    this.#deps.wakeup()
    return added
  }

  async modify (id: string, changes: JobChanges, audit: AuditContext): Promise<JobRecord> {
    const { patch, trigger } = validateChanges(changes)
    if (patch.task !== undefined) this.#deps.tasks.require(patch.task)
    if (trigger !== null) Object.assign(patch, nextOccurrence(trigger, firstRunTime(trigger, await this.#deps.now()), this.#deps.options.random))
    return this.update(id, { ...patch, lastError: null }, audit)
  }

  async resume (id: string, options: AuditOptions): Promise<JobRecord> {
    const audit = this.#deps.audit.context('resumed', options)
    // A read-modify-write: the next run time is computed from the trigger as read (see updateJobChecked).
    return this.announce(await updateJobChecked(this.#deps.options.store, id, async (job) => {
      const trigger = this.#deps.triggers.get(job)
      return {
        paused: false,
        ...('error' in trigger ? { nextRunTime: job.nextRunTime, nextFireTime: job.nextFireTime } : nextOccurrence(trigger, trigger.getNextFireTime(null, await this.#deps.now()), this.#deps.options.random))
      }
    }, undefined, audit) as JobRecord)
  }

  async remove (id: string, options: AuditOptions): Promise<void> {
    if (!(await this.#deps.options.store.removeJob(id, { audit: this.#deps.audit.context('removed', options) }))) throw new JobNotFoundError(id)
    this.#deps.triggers.delete(id)
    this.#deps.events.emit('job:removed', { jobId: id })
    this.#deps.wakeup()
  }

  async run (id: string, options: { inProcess?: boolean } & AuditOptions): Promise<ExecutionRecord> {
    const { store, clock, nodeId, leaseMs } = this.#deps.options
    const audit = this.#deps.audit.context('run', options)
    if (options.inProcess !== true) {
      const queued = await store.queueRun(id, clock?.() ?? null, { audit })
      if (queued === null) throw new JobNotFoundError(id)
      this.#deps.wakeup()
      return queued
    }
    if (!this.#deps.running()) throw new SchedulerStateError('runJob with inProcess needs this scheduler started; call start() first')
    const job = await store.getJob(id)
    if (job === null) throw new JobNotFoundError(id)
    this.#deps.tasks.require(job.task)
    const execution = await this.#deps.runner.claimAndRun(job, async () => store.claimImmediateRun(id, { now: clock?.() ?? null, owner: nodeId, leaseMs, audit }))
    if (execution === null) throw new JobNotFoundError(id)
    if (execution.status !== 'running') this.#deps.events.emit('job:max_instances', { jobId: id, task: job.task, execution })
    return execution
  }

  async update (id: string, patch: JobPatch, audit: AuditContext): Promise<JobRecord> {
    return this.announce(await this.#deps.options.store.updateJob(id, patch, { audit }))
  }

  /** Emits `job:modified` for `job` and wakes the leader; returns the job. */
  announce (job: JobRecord): JobRecord {
    this.#deps.events.emit('job:modified', { job })
    this.#deps.wakeup()
    return job
  }
}
