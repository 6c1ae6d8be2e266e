/**
 * `Scheduler`: the public API (`app.scheduler` in the plugin). Registers tasks, manages jobs in the
 * job store, and runs the scheduling loop, the executor and the lease keeper between `start()`
 * and `shutdown()`.
 *
 * Every write wakes the local loop and, on PostgreSQL, NOTIFYs `scheduler_wakeup` so the leader in
 * another process re-reads the next due time at once.
 */
import { InvalidJobError, SchedulerStateError } from '../errors.js'
import { resolveOptions, type ResolvedSchedulerOptions, type SchedulerOptions } from '../options.js'
import type { AuditFilter, AuditRecord } from '../stores/audit.js'
import type { ExecutionFilter, ExecutionRecord, JobFilter, JobRecord, RecentExecutionStats } from '../stores/job-store.js'
import type { TriggerJson } from '../triggers/types.js'
import type { CodeJobDefinition, JobChanges, JobDefinition, SchedulerEventName, SchedulerEvents, TaskHandler } from '../types.js'
import { AuditTrail, type AuditOptions } from './audit.js'
import { clusterPlanner } from './cluster-planner.js'
import { SchedulerEventBus } from './events.js'
import { ExecutionRunner } from './execution-runner.js'
import { Executor } from './executor.js'
import { JobWrites } from './job-writes.js'
import { SchedulerRuntime } from './runtime.js'
import { readClusterStatus, type ClusterStatus, type SchedulerState, type SchedulerStatus } from './status.js'
import { TaskRegistry } from './task-registry.js'
import { TriggerCache } from './trigger-cache.js'
import { waitForExecution } from './wait-for-execution.js'
import { unflagFixedJobs } from './code-jobs.js'
import { CodeJobRegistry } from './code-job-registry.js'
import { SchedulerTracing } from '../observability/tracing.js'
import { SchedulerMetrics } from '../observability/metrics.js'
import { registerJobs } from '../registration.js'

export type { ClusterStatus, SchedulerStatus } from './status.js'

export class Scheduler {
  readonly options: ResolvedSchedulerOptions
  readonly #events: SchedulerEventBus
  readonly #tasks = new TaskRegistry()
  readonly #codeJobs: CodeJobRegistry
  readonly #triggers = new TriggerCache()
  readonly #executor: Executor
  readonly #runner: ExecutionRunner
  readonly #tracing = new SchedulerTracing()
  readonly #audit: AuditTrail
  readonly #writes: JobWrites
  /** A NOTIFY of queued retries is waiting for the end of this turn of the event loop. */
  #queuedNoticePending = false
  /** The Prometheus metrics (`metrics` option), null without it; `metrics.close()` removes them from the registry. */
  readonly metrics: SchedulerMetrics | null
  #state: SchedulerState = 'stopped'
  #runtime: SchedulerRuntime | null = null

  /** @throws InvalidOptionsError naming the first invalid option. */
  constructor (options: SchedulerOptions) {
    this.options = resolveOptions(options)
    const { log } = this.options
    this.#events = new SchedulerEventBus(log)
    // A queued retry is started by any worker with its task: tell this process's execute loop, and
    // (by one NOTIFY per burst) the others', to re-read when their next queued run may start.
    this.#events.on('job:retry_scheduled', () => {
      this.#runtime?.wakeExecute()
      this.#notifyQueuedSoon()
    })
    this.#executor = new Executor({ maxConcurrency: this.options.maxConcurrency, onSlotFree: () => this.#runtime?.slotFreed() })
    this.#runner = new ExecutionRunner({
      store: this.options.store,
      executor: this.#executor,
      events: this.#events,
      log,
      orm: this.options.orm,
      tasks: this.#tasks,
      clock: this.options.clock,
      random: this.options.random,
      tracing: this.#tracing,
      maxPendingOutcomes: this.options.maxPendingOutcomes,
      statementTimeoutMs: this.options.statementTimeoutMs,
      // The written executions' slots are free: queued runs waiting for them may start here.
      onOutcomesWritten: () => this.#runtime?.slotFreed()
    })
    this.metrics = this.options.metrics === null ? null : new SchedulerMetrics(this, this.options.metrics)
    this.#audit = new AuditTrail({ store: this.options.store, log, events: this.#events, clock: this.options.clock })
    this.#writes = new JobWrites({
      options: this.options, tasks: this.#tasks, triggers: this.#triggers, events: this.#events, audit: this.#audit, runner: this.#runner,
      wakeup: () => this.wakeup(), now: async () => this.now(), running: () => this.#state === 'running'
    })
    this.#codeJobs = new CodeJobRegistry({
      store: this.options.store,
      defaults: this.options.jobDefaults,
      log,
      random: this.options.random,
      now: async () => this.now(),
      audit: (action) => this.#audit.context(action, undefined),
      onChanges: (changes) => {
        for (const { kind, job } of changes) this.#events.emit(kind === 'added' ? 'job:added' : 'job:modified', { job })
        this.wakeup()
      }
    })
  }

  get nodeId (): string {
    return this.options.nodeId
  }

  get running (): boolean {
    return this.#state === 'running'
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEvents[E]) => void): () => void {
    return this.#events.on(event, listener)
  }

  off<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEvents[E]) => void): void {
    this.#events.off(event, listener)
  }

  /** Resolves with the next payload of `event` matching `predicate`. */
  async once<E extends SchedulerEventName>(event: E, predicate?: (payload: SchedulerEvents[E]) => boolean): Promise<SchedulerEvents[E]> {
    return this.#events.once(event, predicate)
  }

  /**
   * Registers the handler jobs reach by `name`. Register every task before `start()` on the
   * processes that run the scheduler; a stored job whose task is unknown is flagged, not deleted.
   * @throws InvalidJobError when the name is empty or already registered to another handler.
   */
  registerTask (name: string, handler: TaskHandler): this {
    this.#tasks.register(name, handler)
    return this
  }

  /** Names of the registered tasks, sorted. */
  get taskNames (): string[] {
    return this.#tasks.names
  }

  /**
   * Declares a job in code with its handler (the decorator-style form). The handler is registered
   * as task `definition.task ?? definition.id`; the job is upserted at `start()` (immediately when
   * already running): a changed trigger reschedules it, an unchanged one keeps its next run time
   * and paused flag.
   * @throws InvalidTriggerError, InvalidJobError for a bad definition (checked now, not at start).
   */
  registerJob (definition: CodeJobDefinition, handler: TaskHandler): this {
    const declared = this.#codeJobs.check(definition)
    this.registerTask(declared.task, handler)
    this.#codeJobs.add(declared)
    if (this.#state === 'running') {
      void this.#codeJobs.sync([declared]).catch((error: Error) => {
        this.options.log.error({ err: error, jobId: definition.id }, 'could not store a job registered after start')
        this.#events.emit('scheduler:error', { error, during: 'registerJob' })
      })
    }
    return this
  }

  /**
   * Registers every `@scheduled` method of `instance` as a job bound to it (see `scheduled`).
   * Returns the job ids.
   */
  registerJobs (instance: object): string[] {
    return registerJobs(this, instance)
  }

  /**
   * Adds a job. Its first run time is computed now from the database clock. Every job method takes
   * `{ actor }` (`AuditOptions`: who, for the audit trail; default `'code'`) as its last argument.
   * @throws InvalidJobError / InvalidTriggerError (nothing is written), TaskNotRegisteredError,
   *   ConflictingIdError unless `replaceExisting`.
   */
  async addJob (definition: JobDefinition, options: { replaceExisting?: boolean } & AuditOptions = {}): Promise<JobRecord> {
    const [record] = await this.#writes.add([definition], options.replaceExisting === true, options)
    return record as JobRecord
  }

  /** Adds many jobs in one transaction: all or none. Same errors as `addJob`. */
  async addJobs (definitions: JobDefinition[], options: AuditOptions = {}): Promise<JobRecord[]> {
    if (!Array.isArray(definitions)) throw new InvalidJobError('jobs', 'must be an array of job definitions')
    return this.#writes.add(definitions, false, options)
  }

  /** The job, or null when there is none with this id. */
  async getJob (id: string): Promise<JobRecord | null> {
    return this.options.store.getJob(id)
  }

  /** Jobs ordered by id, optionally filtered by task, paused flag, flag or text in id/name, paginated. */
  async getJobs (filter: JobFilter = {}): Promise<JobRecord[]> {
    return this.options.store.getJobs(filter)
  }

  /** How many jobs match `filter` (its `limit` and `offset` ignored), for pagination. */
  async countJobs (filter: JobFilter = {}): Promise<number> {
    return this.options.store.countJobs(filter)
  }

  /**
   * Changes a job's fields. A new `trigger` reschedules it (next run time from now); any change
   * clears `lastError` so a fixed job is claimed again. Audited as `modified` (`rescheduled` when
   * `changes` holds only a trigger).
   * @throws JobNotFoundError, InvalidJobError, InvalidTriggerError, TaskNotRegisteredError.
   */
  async modifyJob (id: string, changes: JobChanges, options: AuditOptions = {}): Promise<JobRecord> {
    const onlyTrigger = typeof changes === 'object' && changes !== null && Object.keys(changes).join() === 'trigger'
    return this.#writes.modify(id, changes, this.#audit.context(onlyTrigger ? 'rescheduled' : 'modified', options))
  }

  /** Replaces a job's trigger and computes its next run time from now. Same errors as `modifyJob`. */
  async rescheduleJob (id: string, trigger: TriggerJson, options: AuditOptions = {}): Promise<JobRecord> {
    return this.#writes.modify(id, { trigger }, this.#audit.context('rescheduled', options))
  }

  /** Pauses a job: it keeps its definition but is not claimed. @throws JobNotFoundError. */
  async pauseJob (id: string, options: AuditOptions = {}): Promise<JobRecord> {
    return this.#writes.update(id, { paused: true }, this.#audit.context('paused', options))
  }

  /** Resumes a paused job; its next run time is recomputed from now (APScheduler `resume_job`). @throws JobNotFoundError. */
  async resumeJob (id: string, options: AuditOptions = {}): Promise<JobRecord> {
    return this.#writes.resume(id, options)
  }

  /** Removes a job; its execution history (and audit trail) stays. @throws JobNotFoundError. */
  async removeJob (id: string, options: AuditOptions = {}): Promise<void> {
    return this.#writes.remove(id, options)
  }

  /**
   * Runs an extra occurrence of the job now, without changing its schedule, and returns at once
   * with its execution row. By default the run is queued (`queued`, from any process, even one that
   * is not started or lacks the task) and the leader starts it at once (woken by NOTIFY), as
   * `running`, or records `max_instances` when the job has no free instance slot.
   * With `{ inProcess: true }` it runs in this process right away instead (the scheduler must be
   * started here and have the task), answering `running` or `max_instances` directly.
   * Follow the outcome with `waitForExecution(id)`.
   * @throws JobNotFoundError; with `inProcess`: TaskNotRegisteredError, SchedulerStateError when not started.
   */
  async runJob (id: string, options: { inProcess?: boolean } & AuditOptions = {}): Promise<ExecutionRecord> {
    return this.#writes.run(id, options)
  }

  /**
   * Resolves with the execution once it has finished (any status but `queued` and `running`),
   * whichever process ran it: polls the store, and wakes early on this process's own events.
   * @param options.timeoutMs milliseconds to wait; default 30000.
   * @throws ExecutionNotFoundError for an unknown id; WaitTimeoutError when it is still unfinished at the deadline.
   */
  async waitForExecution (id: number, options: { timeoutMs?: number } = {}): Promise<ExecutionRecord> {
    return waitForExecution(this.options.store, this.#events, id, options.timeoutMs ?? 30_000)
  }

  /** Executions newest first, optionally by job, status and run-time range, paginated. */
  async getExecutions (filter: ExecutionFilter = {}): Promise<ExecutionRecord[]> {
    return this.options.store.getExecutions(filter)
  }

  /** How many executions match `filter` (its `limit` and `offset` ignored), for pagination. */
  async countExecutions (filter: ExecutionFilter = {}): Promise<number> {
    return this.options.store.countExecutions(filter)
  }

  /**
   * For each job id: its newest execution and the mean duration (ms) of its newest `recent`
   * executions (default 20), in one query. For job lists (the admin page's "last status").
   */
  async getRecentExecutionStats (jobIds: string[], recent = 20): Promise<Map<string, RecentExecutionStats>> {
    return this.options.store.getRecentExecutionStats(jobIds, recent)
  }

  async getExecution (id: number): Promise<ExecutionRecord | null> {
    return this.options.store.getExecution(id)
  }

  /**
   * Deletes finished executions whose run time is older than `maxAgeSeconds` (django-apscheduler's
   * `delete_old_job_executions`). Returns how many rows were deleted.
   */
  async deleteOldExecutions (maxAgeSeconds: number): Promise<number> {
    if (!Number.isFinite(maxAgeSeconds) || maxAgeSeconds < 0) throw new InvalidJobError('maxAgeSeconds', 'must be a non-negative number of seconds')
    return this.options.store.deleteOldExecutions(maxAgeSeconds, this.options.clock?.() ?? null)
  }

  /** Audit rows (`scheduler_audit`), newest first, by job, actor and time (`at`, inclusive), paginated. */
  async getAudit (filter: AuditFilter = {}): Promise<AuditRecord[]> { return this.#audit.get(filter) }
  /** How many audit rows match `filter` (its `limit` and `offset` ignored). */
  async countAudit (filter: AuditFilter = {}): Promise<number> { return this.#audit.count(filter) }
  /** Deletes audit rows older than `maxAgeSeconds`; returns how many. @throws InvalidJobError for a negative or non-finite age. */
  async deleteOldAudit (maxAgeSeconds: number): Promise<number> { return this.#audit.deleteOld(maxAgeSeconds) }

  /** Re-checks for due jobs now (the loop also wakes on notifications and polls). */
  wakeup (): void {
    this.#runtime?.wake()
    this.options.store.notifyChange?.(this.options.nodeId).catch((error: Error) => {
      this.options.log.warn({ err: error }, 'could not NOTIFY other processes of a job change; they will see it at their next poll')
    })
  }

  /** NOTIFYs other processes that runs were queued, once for all the retries scheduled in one turn of the event loop. */
  #notifyQueuedSoon (): void {
    if (this.#queuedNoticePending || this.options.store.notifyQueued === undefined) return
    this.#queuedNoticePending = true
    setImmediate(() => {
      this.#queuedNoticePending = false
      this.options.store.notifyQueued?.().catch((error: Error) => {
        this.options.log.warn({ err: error }, 'could not NOTIFY other processes of a queued retry; their workers will see it at their next poll')
      })
    })
  }

  /** This process's view, without I/O. */
  status (): SchedulerStatus {
    return {
      nodeId: this.options.nodeId,
      state: this.#state,
      isLeader: this.#runtime?.isLeader ?? false,
      lock: this.#runtime?.lockKind ?? this.options.lock,
      runningExecutions: this.#executor.runningIds(),
      nextWakeup: this.#runtime?.nextRunTime ?? null,
      tasks: this.taskNames
    }
  }

  /** This process and the cluster: the leader, the live nodes (node registry), executions running anywhere, the next wake-up. */
  async getStatus (): Promise<ClusterStatus> {
    return readClusterStatus(this.status(), this.options, async () => this.#runtime?.describeLeader() ?? null)
  }

  /**
   * Installs the schema, upserts jobs declared in code, clears flags of jobs that can now run,
   * marks executions with expired leases abandoned, and starts the loop.
   * @throws SchedulerStateError when already started; database errors from the first setup step.
   */
  async start (): Promise<void> {
    if (this.#state !== 'stopped') throw new SchedulerStateError(`cannot start: the scheduler is ${this.#state}`)
    this.#state = 'starting'
    try {
      const { store, log } = this.options
      await store.initialize()
      this.#runner.open()
      await this.#codeJobs.sync()
      await this.#unflagFixedJobs()
      this.#runtime = new SchedulerRuntime({
        options: this.options,
        events: this.#events,
        executor: this.#executor,
        runner: this.#runner,
        tracing: this.#tracing,
        tasks: () => this.#tasks.names,
        ...clusterPlanner(this.options, this.#tasks, this.#triggers, (job) => this.#writes.announce(job))
      })
      await this.#runtime.start()
      this.#state = 'running'
      log.info({ nodeId: this.nodeId, lock: this.options.lock, tasks: this.taskNames }, 'scheduler started')
      this.#events.emit('scheduler:started', { nodeId: this.nodeId })
    } catch (error) {
      this.#runtime = null
      this.#state = 'stopped'
      throw error
    }
  }

  /**
   * Stops claiming at once, waits up to `shutdownTimeoutMs` for running executions, aborts and
   * records the rest as `abandoned`, writes their outcomes (up to `shutdownTimeoutMs` more),
   * releases the leader lock and closes the scheduler's connection. Idempotent.
   * @param options.timeoutMs milliseconds the whole shutdown may take; default unbounded beyond the
   *   two `shutdownTimeoutMs` waits. With it, the wait for running executions is cut short to leave
   *   a quarter of it (at most 2000 ms) for their outcomes and closing. The plugin passes Fastify's
   *   `pluginTimeout` less 1000 ms, since Fastify fails `app.close()` when a preClose hook outlasts it.
   */
  async shutdown (options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#state !== 'running') return
    this.#state = 'stopping'
    await this.#runtime?.stop(options.timeoutMs ?? Infinity)
    this.#runtime = null
    this.#state = 'stopped'
    this.options.log.info({ nodeId: this.nodeId }, 'scheduler shut down')
    this.#events.emit('scheduler:shutdown', { nodeId: this.nodeId })
  }

  /** Clears `lastError` of flagged jobs whose task is now registered here (with `execute: true`) and whose trigger loads. */
  async #unflagFixedJobs (): Promise<void> {
    const canRun = (job: JobRecord): boolean => this.options.execute && this.#tasks.has(job.task) && !('error' in this.#triggers.get(job))
    const unflagged = await unflagFixedJobs(this.options.store, canRun, this.options.log)
    for (const job of unflagged) this.#writes.announce(job)
  }

  /** The scheduler's clock: the store's (PostgreSQL `now()`), or the injected `clock`. */
  async now (): Promise<Date> {
    return this.options.clock?.() ?? this.options.store.now()
  }

  /** True when a handler is registered for `task` in this process. */
  hasTask (task: string): boolean {
    return this.#tasks.has(task)
  }
}
