/**
 * The plan step's execution rows, shared by the SQL dialects (postgresql/, mysql/, sqlite/
 * `claim.ts`): from each locked job's plan, the rows to write (what the claimer starts itself
 * `running` within its start limit, the rest `queued`, `missed` and `max_instances` as planned),
 * and, from the rows the insert won, the claims to answer.
 */
import { aheadFlags, jitteredStart, type ClaimedJob, type ClaimOptions, type ClaimPlan } from './claims.js'
import type { ExecutionRecord, JobRecord } from './records.js'

/** One execution row the plan step writes. */
export interface PlannedRow {
  jobId: string
  task: string
  runTime: Date
  status: 'running' | 'queued' | 'missed' | 'max_instances'
  /** A queued first occurrence's jittered run time (see {@link jitteredStart}), or a run claimed ahead's start; null otherwise. */
  startAfter: Date | null
}

/** The key of an occurrence (`jobId`, `runTime`) in the sets below: its first attempt is unique per key. */
export function occurrenceKey (jobId: string, runTime: Date): string {
  return `${jobId}\u0000${runTime.getTime()}`
}

/**
 * The rows of `plans` (one per job of `jobs`, in order). A catch-up batch shares one instance: it
 * starts here whole (one start slot), or is queued whole. Runs claimed ahead (`ClaimPlan.ahead`)
 * are instances of their own: each takes a start slot while there is one, else is queued. An
 * occurrence a plan names twice (a custom `ClaimPlanner` may) gets one row, its first: the
 * occurrence key admits one first attempt, and a second row would be answered as a second run.
 */
export function plannedRows (jobs: JobRecord[], plans: ClaimPlan[], options: Pick<ClaimOptions, 'tasks' | 'startLimit'>): PlannedRow[] {
  const runnable = new Set(options.tasks)
  let startable = options.startLimit
  const rows: PlannedRow[] = []
  const named = new Set<string>()
  const push = (row: PlannedRow): void => {
    const key = occurrenceKey(row.jobId, row.runTime)
    if (named.has(key)) return
    named.add(key)
    rows.push(row)
  }
  plans.forEach((plan, i) => {
    const job = jobs[i] as JobRecord
    const canStart = (): boolean => startable > 0 && runnable.has(job.task)
    const runStatus = plan.run.length > 0 && canStart() ? 'running' : 'queued'
    if (plan.run.length > 0 && runStatus === 'running') startable--
    for (const runTime of plan.run) push({ jobId: job.id, task: job.task, runTime, status: runStatus, startAfter: runStatus === 'queued' ? jitteredStart(job, runTime) : null })
    for (const runTime of plan.missed) push({ jobId: job.id, task: job.task, runTime, status: 'missed', startAfter: null })
    for (const runTime of plan.maxInstances) push({ jobId: job.id, task: job.task, runTime, status: 'max_instances', startAfter: null })
    for (const { runTime, startAt } of plan.ahead ?? []) {
      if (named.has(occurrenceKey(job.id, runTime))) continue
      const status = canStart() ? 'running' : 'queued'
      if (status === 'running') startable--
      push({ jobId: job.id, task: job.task, runTime, status, startAfter: startAt })
    }
  })
  return rows
}

/**
 * The record of a planned row the insert wrote as row `id`, built from what the insert was given
 * instead of read back (a claim's `RETURNING` of every column of 1,000 rows cost more than the rest
 * of the claim's parsing): the same values the dialects' inserts compute, with the claim's `now`
 * (milliseconds, as sent) and `leaseMs`: a running row starts at its `startAfter` or now and holds
 * its lease `leaseMs` beyond; a `missed` / `max_instances` row is finished now; a queued row has
 * no owner.
 */
export function plannedExecution (row: PlannedRow, id: number, now: Date, options: Pick<ClaimOptions, 'owner' | 'leaseMs'>): ExecutionRecord {
  const running = row.status === 'running'
  const startMs = (row.startAfter ?? now).getTime()
  return {
    id,
    jobId: row.jobId,
    runTime: new Date(row.runTime.getTime()),
    attempt: 1,
    nextAttemptAt: null,
    startAfter: row.startAfter === null ? null : new Date(row.startAfter.getTime()),
    status: row.status,
    startedAt: running ? new Date(startMs) : null,
    finishedAt: running || row.status === 'queued' ? null : new Date(now.getTime()),
    durationMs: null,
    exception: null,
    traceback: null,
    owner: row.status === 'queued' ? null : options.owner,
    leaseUntil: running ? new Date(startMs + options.leaseMs) : null,
    lateStatus: null,
    lateFinishedAt: null,
    lateException: null
  }
}

/**
 * Sorts inserted rows back to their jobs, oldest id first (SQLite returns rows in no set order);
 * planned occurrences with no inserted row were claimed elsewhere.
 */
export function groupClaims (jobs: JobRecord[], plans: ClaimPlan[], rows: PlannedRow[], inserted: ExecutionRecord[]): ClaimedJob[] {
  const claims = new Map<string, ClaimedJob>(jobs.map((job, i) => [job.id, {
    job, running: [], recorded: [], queued: [], claimedElsewhere: [], coalesced: plans[i]?.coalesced ?? 0, flagged: plans[i]?.lastError ?? null, ...aheadFlags(plans[i])
  }]))
  const insertedKeys = new Set<string>()
  for (const execution of [...inserted].sort((a, b) => a.id - b.id)) {
    insertedKeys.add(occurrenceKey(execution.jobId, execution.runTime))
    const claim = claims.get(execution.jobId) as ClaimedJob
    if (execution.status === 'running') claim.running.push(execution)
    else if (execution.status === 'queued') claim.queued?.push(execution)
    else claim.recorded.push(execution)
  }
  for (const row of rows) {
    if (!insertedKeys.has(occurrenceKey(row.jobId, row.runTime))) claims.get(row.jobId)?.claimedElsewhere.push(row.runTime)
  }
  return [...claims.values()]
}
