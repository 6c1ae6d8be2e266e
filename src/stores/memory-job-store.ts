/**
 * `MemoryJobStore`: jobs and executions in this process's memory, for tests and ad-hoc use. It
 * honours the same contract as `MikroOrmJobStore` (one contract test suite runs against both),
 * but it is not shared between processes and forgets everything on exit.
 */
import { ConflictingIdError, JobNotFoundError, VersionMismatchError } from '../errors.js'
import type {
  ClaimedJob, ClaimOptions, RecentExecutionStats, ExecutionFilter, ExecutionOutcome, ExecutionRecord, JobFilter, JobPatch,
  JobRecord, JobStore, NewJobRecord, NextQueuedStart, NextWakeup, NodeRecord, NodeRegistration, NodeRetention, QueuedClaimOptions
} from './job-store.js'
import { SUPERSEDED_BY_LATE_SUCCESS } from './job-store.js'
import { MemoryClaims } from './memory-claims.js'
import {
  fireLagOf, perMinuteOf, runHistoryOf, slowestJobsOf, type FireLagStats, type MinuteStatusCount, type RunHistoryEntry, type RunTimeRange, type SlowJob
} from './execution-stats.js'
import type { AuditContext, AuditEntry, AuditFilter, AuditRecord } from './audit.js'
import { MemoryAuditLog } from './memory-audit-log.js'
import { MemoryNodeRegistry } from './memory-node-registry.js'
import { attemptKey, clone, endedAt, light, newestFirst, page } from './memory-rows.js'
import { recentStats } from './recent-stats.js'
import { withFireTime } from './rows.js'

export interface MemoryJobStoreOptions {
  /** The store's clock; default `() => new Date()`. */
  clock?: () => Date
}

export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, JobRecord>()
  readonly #executions = new Map<number, ExecutionRecord>()
  readonly #occurrences = new Set<string>()
  readonly #nodes = new MemoryNodeRegistry()
  readonly #clock: () => Date
  readonly #audit: MemoryAuditLog
  readonly #claims: MemoryClaims
  #nextExecutionId = 1

  constructor (options: MemoryJobStoreOptions = {}) {
    this.#clock = options.clock ?? (() => new Date())
    this.#audit = new MemoryAuditLog(this.#clock)
    this.#claims = new MemoryClaims({
      jobs: this.#jobs,
      executions: this.#executions,
      clock: this.#clock,
      insert: (...args) => this.#insert(...args),
      auditedRun: (audit, execution) => this.#auditedRun(audit, execution)
    })
  }

  async initialize (): Promise<void> {}

  async now (): Promise<Date> {
    return this.#clock()
  }

  async addJob (job: NewJobRecord, options: { replaceExisting?: boolean, audit?: AuditContext } = {}): Promise<JobRecord> {
    const existing = this.#jobs.get(job.id)
    if (existing !== undefined && options.replaceExisting !== true) throw new ConflictingIdError(job.id)
    const now = this.#clock()
    const fields = { ...clone(job), nextFireTime: job.nextFireTime === undefined ? job.nextRunTime : job.nextFireTime, captureLogs: job.captureLogs ?? true, retry: job.retry ?? null, recover: job.recover ?? false }
    const record: JobRecord = existing === undefined
      ? { ...fields, createdAt: now, updatedAt: now, version: 1 }
      : { ...fields, createdAt: existing.createdAt, updatedAt: now, version: existing.version + 1 }
    this.#jobs.set(job.id, record)
    this.#audit.recordJob(options.audit, existing ?? null, record)
    return clone(record)
  }

  async addJobs (jobs: NewJobRecord[], options: { audit?: AuditContext } = {}): Promise<JobRecord[]> {
    const seen = new Set<string>()
    for (const job of jobs) {
      if (this.#jobs.has(job.id) || seen.has(job.id)) throw new ConflictingIdError(job.id)
      seen.add(job.id)
    }
    const added: JobRecord[] = []
    for (const job of jobs) added.push(await this.addJob(job, options))
    return added
  }

  async getJob (id: string): Promise<JobRecord | null> {
    const job = this.#jobs.get(id)
    return job === undefined ? null : clone(job)
  }

  async getJobs (filter: JobFilter = {}): Promise<JobRecord[]> {
    const jobs = this.#matchingJobs(filter).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return page(jobs, filter).map(clone)
  }

  async countJobs (filter: JobFilter = {}): Promise<number> {
    return this.#matchingJobs(filter).length
  }

  #matchingJobs (filter: JobFilter): JobRecord[] {
    const search = filter.search?.toLowerCase()
    return [...this.#jobs.values()].filter((job) => (filter.task === undefined || job.task === filter.task) &&
      (filter.paused === undefined || job.paused === filter.paused) &&
      (filter.flagged === undefined || (job.lastError !== null) === filter.flagged) &&
      (search === undefined || job.id.toLowerCase().includes(search) || job.name.toLowerCase().includes(search)))
  }

  async updateJob (id: string, patch: JobPatch, options: { expectedVersion?: number, audit?: AuditContext } = {}): Promise<JobRecord> {
    const job = this.#jobs.get(id)
    if (job === undefined) throw new JobNotFoundError(id)
    if (options.expectedVersion !== undefined && job.version !== options.expectedVersion) throw new VersionMismatchError(id, options.expectedVersion)
    const updated: JobRecord = { ...job, ...clone(withFireTime(patch)), updatedAt: this.#clock(), version: job.version + 1 }
    this.#jobs.set(id, updated)
    this.#audit.recordJob(options.audit, job, updated)
    return clone(updated)
  }

  async removeJob (id: string, options: { audit?: AuditContext } = {}): Promise<boolean> {
    const job = this.#jobs.get(id)
    if (job === undefined) return false
    this.#jobs.delete(id)
    this.#audit.recordJob(options.audit, job, null)
    return true
  }

  // The plan and execute steps and run-now (memory-claims.ts).
  async getNextWakeup (): Promise<NextWakeup> { return { nextRunTime: this.#claims.nextWakeup(), now: this.#clock() } }
  async getNextQueuedStart (tasks: readonly string[]): Promise<NextQueuedStart> { return this.#claims.nextQueuedStart(tasks) }
  async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> { return this.#claims.claimDueJobs(options) }
  async claimQueuedRuns (options: QueuedClaimOptions): Promise<ClaimedJob[]> { return this.#claims.claimQueuedRuns(options) }
  async queueRun (jobId: string, now: Date | null, options: { audit?: AuditContext } = {}): Promise<ExecutionRecord | null> { return this.#claims.queueRun(jobId, now, options.audit) }
  async claimImmediateRun (jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
    return this.#claims.claimImmediateRun(jobId, options)
  }

  #auditedRun (audit: AuditContext | undefined, execution: ExecutionRecord): ExecutionRecord {
    this.#audit.recordRun(audit, execution)
    return light(execution)
  }

  // The audit trail (memory-audit-log.ts).
  async recordAudit (entries: AuditEntry[]): Promise<void> { this.#audit.record(entries) }
  async getAudit (filter: AuditFilter = {}): Promise<AuditRecord[]> { return this.#audit.get(filter) }
  async countAudit (filter: AuditFilter = {}): Promise<number> { return this.#audit.count(filter) }
  async deleteOldAudit (maxAgeSeconds: number, now: Date | null): Promise<number> { return this.#audit.deleteOld(maxAgeSeconds, now) }

  async finishExecution (id: number, outcome: ExecutionOutcome, now: Date | null): Promise<ExecutionRecord | null> {
    const execution = this.#executions.get(id)
    if (execution?.status === 'abandoned' && execution.lateStatus === null) {
      Object.assign(execution, { lateStatus: outcome.status, lateFinishedAt: endedAt(now ?? this.#clock(), outcome), lateException: outcome.exception ?? null })
      const next = [...this.#executions.values()].find((e) => e.jobId === execution.jobId && e.runTime.getTime() === execution.runTime.getTime() && e.attempt === execution.attempt + 1)
      if (outcome.status === 'success' && next?.status === 'queued') Object.assign(next, { status: 'abandoned', finishedAt: execution.lateFinishedAt, exception: SUPERSEDED_BY_LATE_SUCCESS })
      return light(execution)
    }
    if (execution === undefined || execution.status !== 'running') return null
    const finishedAt = endedAt(now ?? this.#clock(), outcome)
    const durationMs = outcome.durationMs ?? null
    const retryDelayMs = outcome.status === 'success' ? null : outcome.retryDelayMs ?? null
    const nextAttemptAt = retryDelayMs === null ? null : new Date(finishedAt.getTime() + retryDelayMs)
    if (nextAttemptAt !== null) this.#insertAttempt(execution, nextAttemptAt)
    Object.assign(execution, {
      nextAttemptAt,
      status: outcome.status,
      finishedAt,
      leaseUntil: null,
      exception: outcome.exception ?? null,
      traceback: outcome.traceback ?? null,
      result: typeof outcome.resultJson === 'string' ? JSON.parse(outcome.resultJson) as unknown : null,
      logs: typeof outcome.logsJson === 'string' ? JSON.parse(outcome.logsJson) as ExecutionRecord['logs'] : null,
      durationMs,
      startedAt: durationMs === null ? execution.startedAt : new Date(finishedAt.getTime() - durationMs)
    })
    return light(execution)
  }

  async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome, claimed?: ExecutionRecord }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
    const finished: Array<ExecutionRecord | null> = []
    for (const { id, outcome } of outcomes) finished.push(await this.finishExecution(id, outcome, now))
    return finished
  }

  async extendLeases (owner: string, ids: number[], leaseMs: number, now: Date | null): Promise<number[]> {
    const at = now ?? this.#clock()
    const extended: number[] = []
    for (const id of ids) {
      const execution = this.#executions.get(id)
      if (execution?.status === 'running' && execution.owner === owner && execution.leaseUntil !== null && execution.leaseUntil >= at) {
        // A run claimed ahead keeps its lease counted from its start (see the PostgreSQL store).
        execution.leaseUntil = new Date(Math.max(at.getTime(), execution.startAfter?.getTime() ?? 0) + leaseMs)
        extended.push(id)
      }
    }
    return extended
  }

  /** Claims honour `aheadMs` (see `JobStore.claimsAhead`). */
  readonly claimsAhead = true

  async requeueExecutions (owner: string, ids: number[]): Promise<number[]> {
    const requeued: number[] = []
    for (const id of ids) {
      const execution = this.#executions.get(id)
      if (execution?.status !== 'running' || execution.owner !== owner || execution.startAfter === null) continue
      Object.assign(execution, { status: 'queued', owner: null, startedAt: null, leaseUntil: null })
      requeued.push(id)
    }
    return requeued
  }

  async recordNode (node: NodeRegistration, retention: NodeRetention, now: Date | null): Promise<void> {
    this.#nodes.record(node, retention, now ?? this.#clock())
  }

  async removeNode (nodeId: string): Promise<boolean> {
    return this.#nodes.remove(nodeId)
  }

  async getNodes (staleHeartbeats: number, now: Date | null): Promise<NodeRecord[]> {
    const running = new Map<string, number>()
    for (const execution of this.#executions.values()) {
      if (execution.status === 'running' && execution.owner !== null) running.set(execution.owner, (running.get(execution.owner) ?? 0) + 1)
    }
    return this.#nodes.live(staleHeartbeats, now ?? this.#clock(), running)
  }

  async abandonExpiredExecutions (reason: string, now: Date | null): Promise<ExecutionRecord[]> {
    const at = now ?? this.#clock()
    const abandoned: ExecutionRecord[] = []
    for (const execution of this.#executions.values()) {
      if (execution.status === 'running' && execution.leaseUntil !== null && execution.leaseUntil < at) {
        const job = this.#jobs.get(execution.jobId)
        const recover = job !== undefined && job.recover && execution.attempt < (job.retry?.attempts ?? 1)
        if (recover) this.#insertAttempt(execution, at)
        Object.assign(execution, { status: 'abandoned', finishedAt: at, leaseUntil: null, exception: reason, nextAttemptAt: recover ? at : null })
        abandoned.push(light(execution))
      }
    }
    return abandoned
  }

  async getExecution (id: number): Promise<ExecutionRecord | null> {
    const execution = this.#executions.get(id)
    return execution === undefined ? null : clone(execution)
  }

  async getExecutions (filter: ExecutionFilter = {}): Promise<ExecutionRecord[]> {
    const executions = this.#matchingExecutions(filter).sort(newestFirst)
    return page(executions, filter).map(light)
  }

  async countExecutions (filter: ExecutionFilter = {}): Promise<number> {
    return this.#matchingExecutions(filter).length
  }

  #matchingExecutions (filter: ExecutionFilter): ExecutionRecord[] {
    return [...this.#executions.values()].filter((e) => (filter.jobId === undefined || e.jobId === filter.jobId) &&
      (filter.status === undefined || e.status === filter.status) && (filter.owner === undefined || e.owner === filter.owner) &&
      (filter.from === undefined || e.runTime >= filter.from) && (filter.to === undefined || e.runTime <= filter.to))
  }

  async getRecentExecutionStats (jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
    const executions = jobIds.flatMap((jobId) => this.#matchingExecutions({ jobId }).sort(newestFirst).slice(0, recent))
    return recentStats(jobIds, executions.map(light))
  }

  async deleteOldExecutions (maxAgeSeconds: number, now: Date | null): Promise<number> {
    const cutoff = (now ?? this.#clock()).getTime() - maxAgeSeconds * 1000
    let deleted = 0
    for (const [id, execution] of this.#executions) {
      if (execution.status !== 'running' && execution.status !== 'queued' && execution.runTime.getTime() < cutoff) {
        this.#executions.delete(id)
        this.#occurrences.delete(attemptKey(execution.jobId, execution.runTime, execution.attempt))
        deleted++
      }
    }
    return deleted
  }

  async getRunHistory (jobId: string, limit: number): Promise<RunHistoryEntry[]> {
    return clone(runHistoryOf(this.#executions.values(), jobId, limit))
  }

  async countExecutionsPerMinute (range: RunTimeRange): Promise<MinuteStatusCount[]> {
    return perMinuteOf(this.#executions.values(), range)
  }

  async getFireLag (range: RunTimeRange): Promise<FireLagStats> {
    return fireLagOf(this.#executions.values(), range)
  }

  async getSlowestJobs (range: RunTimeRange, limit: number): Promise<SlowJob[]> {
    return slowestJobsOf(this.#executions.values(), range, limit)
  }

  async close (): Promise<void> {}

  /**
   * The next attempt of `execution`'s occurrence, queued to start at `startAfter`, never before
   * the attempt's own start (a run claimed ahead, cut off before its fire time).
   */
  #insertAttempt (execution: ExecutionRecord, startAfter: Date): void {
    const at = execution.startAfter !== null && execution.startAfter > startAfter ? execution.startAfter : startAfter
    this.#insert(execution.jobId, execution.runTime, 'queued', { startedAt: null, finishedAt: null, owner: null, leaseUntil: null, startAfter: at }, execution.attempt + 1)
  }

  /** Inserts unless the attempt exists (the unique key's `ON CONFLICT DO NOTHING`); null on conflict. */
  #insert (
    jobId: string, runTime: Date, status: ExecutionRecord['status'],
    fields: Pick<ExecutionRecord, 'startedAt' | 'finishedAt' | 'owner' | 'leaseUntil'> & { startAfter?: Date }, attempt = 1
  ): ExecutionRecord | null {
    const key = attemptKey(jobId, runTime, attempt)
    if (this.#occurrences.has(key)) return null
    this.#occurrences.add(key)
    const execution: ExecutionRecord = {
      id: this.#nextExecutionId++, jobId, runTime, attempt, nextAttemptAt: null, startAfter: null, status, durationMs: null, exception: null, traceback: null,
      lateStatus: null, lateFinishedAt: null, lateException: null, result: null, logs: null, ...fields
    }
    this.#executions.set(execution.id, execution)
    return execution
  }
}
