/**
 * The claim rules of `MemoryJobStore` over its in-memory tables: the plan step (`claimDueJobs`),
 * the execute step (`claimQueuedRuns`), their wake-ups, and run-now. The same rules as the
 * PostgreSQL statements (`postgresql/claim.ts`, `postgresql/queued-runs.ts`), checked by the one
 * contract suite; one process only, so no locks. A queued run's task is its job's.
 */
import type { AuditContext } from './audit.js'
import { aheadFlags, jitteredStart, type ClaimedJob, type ClaimOptions, type NextQueuedStart, type QueuedClaimOptions } from './claims.js'
import { REMOVED_BEFORE_RETRY, REMOVED_BEFORE_RUN } from './execution-reasons.js'
import { clone, light } from './memory-rows.js'
import type { ExecutionRecord, JobRecord } from './records.js'

/** The memory store's tables and its one way of inserting an execution (`null`: the attempt exists). */
export interface MemoryTables {
  jobs: Map<string, JobRecord>
  executions: Map<number, ExecutionRecord>
  clock: () => Date
  insert: (
    jobId: string, runTime: Date, status: ExecutionRecord['status'],
    fields: Pick<ExecutionRecord, 'startedAt' | 'finishedAt' | 'owner' | 'leaseUntil'> & { startAfter?: Date }, attempt?: number
  ) => ExecutionRecord | null
  /** Writes the `run` audit row of a run-now and returns the row to answer with. */
  auditedRun: (audit: AuditContext | undefined, execution: ExecutionRecord) => ExecutionRecord
}

export class MemoryClaims {
  readonly #t: MemoryTables

  constructor (tables: MemoryTables) {
    this.#t = tables
  }

  nextWakeup (): Date | null {
    let next: Date | null = null
    for (const job of this.#claimable()) if (next === null || (job.nextRunTime as Date) < next) next = job.nextRunTime
    return next
  }

  nextQueuedStart (tasks: readonly string[]): NextQueuedStart {
    const now = this.#t.clock()
    let next: Date | null = null
    let waitingForSlot = false
    for (const execution of this.#queuedOf(tasks)) {
      const startAt = execution.startAfter ?? execution.runTime
      if (!this.#blocked(execution, now, startAt <= now) && (next === null || startAt < next)) next = startAt
      const job = this.#t.jobs.get(execution.jobId)
      if (job !== undefined && this.runningCount(job.id, now) >= job.maxInstances) waitingForSlot = true
    }
    return { nextStartTime: next, waitingForSlot, now }
  }

  claimDueJobs (options: ClaimOptions): ClaimedJob[] {
    const now = options.now ?? this.#t.clock()
    const horizon = new Date(now.getTime() + (options.aheadMs ?? 0))
    const runnable = new Set(options.tasks)
    let startable = options.startLimit
    const due = [...this.#claimable()]
      .filter((job) => (job.nextRunTime as Date) <= horizon)
      .sort((a, b) => (a.nextRunTime as Date).getTime() - (b.nextRunTime as Date).getTime())
      .slice(0, options.limit)
    return due.map((job) => {
      const plan = options.plan(clone(job), now, this.#instances(job.id, now), horizon)
      const ahead = plan.ahead ?? []
      const claim: ClaimedJob = { job: clone(job), running: [], recorded: [], queued: [], claimedElsewhere: [], coalesced: plan.coalesced, flagged: plan.lastError ?? null, ...aheadFlags(plan) }
      const canStart = (): boolean => startable > 0 && runnable.has(job.task)
      const runStatus = plan.run.length > 0 && canStart() ? 'running' : 'queued'
      if (plan.run.length > 0 && runStatus === 'running') startable--
      const insert = (runTime: Date, status: 'running' | 'queued' | 'missed' | 'max_instances', startAt: Date | null = null): void => {
        const running = status === 'running'
        const startAfter = startAt ?? (status === 'queued' ? jitteredStart(job, runTime) : null)
        const startedAt = startAt ?? now
        const execution = this.#t.insert(job.id, runTime, status, {
          startedAt: running ? startedAt : null,
          finishedAt: running || status === 'queued' ? null : now,
          owner: status === 'queued' ? null : options.owner,
          leaseUntil: running ? new Date(startedAt.getTime() + options.leaseMs) : null,
          ...(startAfter === null ? {} : { startAfter })
        })
        if (execution === null) claim.claimedElsewhere.push(runTime)
        else if (running) claim.running.push(light(execution))
        else if (status === 'queued') claim.queued?.push(light(execution))
        else claim.recorded.push(light(execution))
      }
      for (const runTime of plan.run) insert(runTime, runStatus)
      for (const runTime of plan.missed) insert(runTime, 'missed')
      for (const runTime of plan.maxInstances) insert(runTime, 'max_instances')
      // Claimed ahead: each occurrence an instance of its own, started here while slots are free.
      for (const { runTime, startAt } of ahead) {
        const status = canStart() ? 'running' : 'queued'
        if (status === 'running') startable--
        insert(runTime, status, startAt)
      }
      job.nextRunTime = plan.nextRunTime
      job.nextFireTime = plan.nextFireTime === undefined ? plan.nextRunTime : plan.nextFireTime
      job.lastError = plan.lastError ?? null
      return claim
    })
  }

  claimQueuedRuns (options: QueuedClaimOptions): ClaimedJob[] {
    const now = options.now ?? this.#t.clock()
    const queued = [...this.#queuedOf(options.tasks)]
      .filter((execution) => (execution.startAfter === null || execution.startAfter <= now) && !this.#blocked(execution, now, true))
      .sort((a, b) => a.runTime.getTime() - b.runTime.getTime() || a.id - b.id)
      .slice(0, options.limit)
    const claims = new Map<string, ClaimedJob>()
    for (const execution of queued) {
      const job = this.#t.jobs.get(execution.jobId)
      const retry = execution.attempt > 1
      if (job === undefined) {
        Object.assign(execution, { status: 'abandoned', finishedAt: now, owner: options.owner, exception: retry ? REMOVED_BEFORE_RETRY : REMOVED_BEFORE_RUN })
        continue
      }
      const late = !retry && job.misfireGraceTime !== null && now.getTime() - (execution.startAfter ?? execution.runTime).getTime() > job.misfireGraceTime * 1000
      if (!late && this.#blocked(execution, now, true)) continue // waits for a slot an earlier run of this claim took
      Object.assign(execution, late
        ? { status: 'missed', finishedAt: now, owner: options.owner }
        : { status: 'running', startedAt: now, owner: options.owner, leaseUntil: new Date(now.getTime() + options.leaseMs) })
      const claim = claims.get(job.id) ?? { job: clone(job), running: [], recorded: [], claimedElsewhere: [], coalesced: 0, flagged: null }
      claims.set(job.id, claim)
      if (late) claim.recorded.push(light(execution))
      else claim.running.push(light(execution))
    }
    return [...claims.values()]
  }

  queueRun (jobId: string, now: Date | null, audit: AuditContext | undefined): ExecutionRecord | null {
    const job = this.#t.jobs.get(jobId)
    if (job === undefined) return null
    const at = now ?? this.#t.clock()
    const admitted = this.#instances(jobId, at) < job.maxInstances
    return this.#insertRunNow(jobId, at, admitted ? 'queued' : 'max_instances', { owner: null, leaseMs: 0 }, audit)
  }

  claimImmediateRun (jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): ExecutionRecord | null {
    const job = this.#t.jobs.get(jobId)
    if (job === undefined) return null
    const now = options.now ?? this.#t.clock()
    const status = this.#instances(jobId, now) < job.maxInstances ? 'running' : 'max_instances'
    return this.#insertRunNow(jobId, now, status, options, options.audit)
  }

  /** Live running executions of a job: `running` with a lease not yet expired at `now`. */
  runningCount (jobId: string, now: Date): number {
    let count = 0
    for (const execution of this.#t.executions.values()) {
      if (execution.jobId === jobId && execution.status === 'running' && execution.leaseUntil !== null && execution.leaseUntil >= now) count++
    }
    return count
  }

  /** An occurrence is keyed by (job, run time): a run-now on a taken millisecond moves one later. */
  #insertRunNow (
    jobId: string, now: Date, status: 'running' | 'queued' | 'max_instances', lease: { owner: string | null, leaseMs: number }, audit: AuditContext | undefined
  ): ExecutionRecord {
    for (let runTime = now.getTime(); ; runTime += 1) {
      const execution = this.#t.insert(jobId, new Date(runTime), status, {
        startedAt: status === 'running' ? now : null,
        finishedAt: status === 'max_instances' ? now : null,
        owner: lease.owner,
        leaseUntil: status === 'running' ? new Date(now.getTime() + lease.leaseMs) : null
      })
      if (execution !== null) return this.#t.auditedRun(audit, execution)
    }
  }

  /** Instances of a job at `now`: live running executions plus queued first attempts. */
  #instances (jobId: string, now: Date): number {
    let queued = 0
    for (const execution of this.#t.executions.values()) if (execution.jobId === jobId && execution.status === 'queued' && execution.attempt === 1) queued++
    return this.runningCount(jobId, now) + queued
  }

  /** A queued run that must wait: a retry of a paused job, or (once due, with `due`) a run of a job with no free slot. */
  #blocked (execution: ExecutionRecord, now: Date, due: boolean): boolean {
    const job = this.#t.jobs.get(execution.jobId)
    return job !== undefined && ((execution.attempt > 1 && job.paused) || (due && this.runningCount(job.id, now) >= job.maxInstances))
  }

  /** Queued runs whose job's task is one of `tasks`, or whose job is gone. */
  * #queuedOf (tasks: readonly string[]): Iterable<ExecutionRecord> {
    for (const execution of this.#t.executions.values()) {
      if (execution.status !== 'queued') continue
      const job = this.#t.jobs.get(execution.jobId)
      if (job === undefined || tasks.includes(job.task)) yield execution
    }
  }

  * #claimable (): Iterable<JobRecord> {
    for (const job of this.#t.jobs.values()) {
      if (!job.paused && job.lastError === null && job.nextRunTime !== null) yield job
    }
  }
}
