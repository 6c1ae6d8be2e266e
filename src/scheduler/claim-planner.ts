/**
 * Decides what happens to one due job at claim time: which overdue occurrences run, which are
 * recorded as missed or as max instances, and the job's next run time. Pure and synchronous; the
 * store calls it inside the claim transaction with the database time.
 *
 * Rules from APScheduler 3 (`BaseScheduler._process_jobs`, `BaseExecutor.run_job`):
 * - every fire time from `nextRunTime` up to now is an overdue occurrence;
 * - `coalesce`: only the latest overdue occurrence is considered, the earlier ones are folded into it
 *   (a claim walks up to 100 × `maxCatchUp` fire times to find it, keeping only the latest, so a
 *   long backlog runs once, not once per `maxCatchUp` occurrences);
 * - `misfireGraceTime` (seconds): an occurrence later than that is recorded `missed` instead of run
 *   (`null`: always run). Lateness is measured from the occurrence's jittered run time, as APScheduler
 *   does (its run times carry the jitter): for the first due occurrence that is the job's
 *   `nextRunTime`; occurrences enumerated after it have no jitter drawn, so from their fire time;
 * - `maxInstances` is about overlap, not catch-up (APScheduler `BaseExecutor.submit_job` /
 *   `run_job`), and queued runs count as instances as running ones do (APScheduler counts a job
 *   submitted to a busy pool): with a free instance slot, every on-time overdue occurrence runs, all of them in
 *   that one instance, one after another in run-time order, each with its own execution row; with
 *   no free slot, every one is recorded `max_instances`. (APScheduler drops the whole batch; we
 *   record each one.) While a batch runs, its occurrences not yet started count as running, so
 *   the batch holds at least one slot for its whole length;
 *
 * Occurrences are enumerated from the job's exact `nextFireTime` (the claim was triggered by its
 * jittered `nextRunTime`), so `runTime` stays the exact fire time whatever the jitter.
 *
 * Claiming ahead (a `horizon` later than `now`; see `ClaimOptions.aheadMs`): a job not yet due but
 * whose run time falls before the horizon has its occurrences up to the horizon claimed now, to
 * start at their run times (Quartz's `batchTriggerAcquisitionFireAheadTimeWindow`). Each is an
 * instance of its own, taken only while a slot is free at claim time (the instances running now
 * count, though they may end before the occurrence's time); with no free slot the job is left as
 * it is (`ahead` empty, nothing written), and is claimed when it falls due, under the rules above.
 * A job with overdue occurrences has them planned as above (a batch taking one instance), and the
 * slots left may take its occurrences up to the horizon: a claim cycle longer than the job's
 * period (a slow network) would otherwise find it overdue every time and never get ahead.
 */
import type { ClaimPlan, JobRecord } from '../stores/job-store.js'
import type { Trigger } from '../triggers/types.js'
import { nextOccurrence, type NextOccurrence } from './next-occurrence.js'

/** With coalesce, how many times maxCatchUp fire times one claim walks to find the latest overdue one. */
const COALESCE_WALK_FACTOR = 100

export interface PlanInput {
  job: JobRecord
  /** The parsed trigger, or the reason it could not be parsed. */
  trigger: Trigger | { error: string }
  /** Whether a live process that runs handlers (`execute: true`), this one or another, has `job.task` registered. */
  taskRegistered: boolean
  /** Claim time (database clock). */
  now: Date
  /**
   * Occurrences whose run time is not later than this are claimed ahead (see above); default
   * `now` (nothing is claimed ahead).
   */
  horizon?: Date
  /** The job's instances cluster-wide: queued first attempts plus live `running` executions. */
  instances: number
  /** Most overdue occurrences to enumerate in one claim; the rest are handled by the next claim. */
  maxCatchUp: number
  /** Random source in [0, 1) for the next occurrence's jitter. */
  random: () => number
}

export function planClaim (input: PlanInput): ClaimPlan {
  const { job, trigger } = input
  const none = { run: [], missed: [], maxInstances: [], coalesced: 0, nextFireTime: job.nextFireTime }
  if (!input.taskRegistered) {
    return { ...none, nextRunTime: job.nextRunTime, lastError: missingTaskFlag(job.task) }
  }
  if ('error' in trigger) return { ...none, nextRunTime: job.nextRunTime, lastError: trigger.error }
  try {
    return planOccurrences(input, trigger)
  } catch (error) {
    // One job's trigger failing at claim time must not roll back the claim of every other due job
    // (the same job would head every batch and nothing would run): flag it, keep it.
    return { ...none, nextRunTime: job.nextRunTime, lastError: `its trigger failed while computing fire times: ${describeFailure(error)}; fix it with rescheduleJob` }
  }
}

/** The flag of a job whose task no live process that runs jobs has registered. */
export function missingTaskFlag (task: string): string {
  return `task '${task}' is not registered on any live process that runs jobs; register it with app.scheduler.registerTask('${task}', handler) on a process with execute: true`
}

/**
 * Whether `job` is flagged only because no live process had its task (cleared when one has it),
 * in this wording or in the one of releases before distributed execution.
 */
export function hasMissingTaskFlag (job: JobRecord): boolean {
  return job.lastError === missingTaskFlag(job.task) ||
    job.lastError === `task '${job.task}' is not registered; register it with app.scheduler.registerTask('${job.task}', handler) on the process that runs the scheduler`
}

function describeFailure (error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'an unprintable error'
  }
}

function planOccurrences (input: PlanInput, trigger: Trigger): ClaimPlan {
  const { job, now } = input
  if (job.nextRunTime !== null && job.nextRunTime > now) {
    const first = { nextFireTime: job.nextFireTime ?? job.nextRunTime, nextRunTime: job.nextRunTime }
    const { ahead, next } = takeAhead(input, trigger, first, job.maxInstances - input.instances)
    // No slot: the job stays as it is (nothing written), to be claimed when it falls due.
    if (ahead.length === 0) return { run: [], missed: [], maxInstances: [], coalesced: 0, nextRunTime: job.nextRunTime, nextFireTime: job.nextFireTime }
    return { run: [], missed: [], maxInstances: [], ahead, coalesced: 0, ...next }
  }
  const due: Date[] = []
  let next = job.nextFireTime ?? job.nextRunTime
  while (next !== null && next <= now && due.length < input.maxCatchUp) {
    due.push(next)
    next = trigger.getNextFireTime(next, now)
  }
  // Coalesce folds every overdue occurrence into the latest one, so a backlog longer than
  // maxCatchUp must not run once per maxCatchUp occurrences: walk on to the latest (keeping only
  // it), within COALESCE_WALK_FACTOR × maxCatchUp fire times in one claim.
  let skipped = 0
  if (job.coalesce && due.length > 0) {
    const limit = input.maxCatchUp * COALESCE_WALK_FACTOR
    while (next !== null && next <= now && skipped < limit) {
      due[due.length - 1] = next
      skipped++
      next = trigger.getNextFireTime(next, now)
    }
  }
  const considered = job.coalesce ? due.slice(-1) : due
  const graceMs = job.misfireGraceTime === null ? Infinity : job.misfireGraceTime * 1000
  const first = due[0]
  const jitteredRunTime = (fireTime: Date): Date => fireTime === first && job.nextRunTime !== null && job.nextRunTime > fireTime ? job.nextRunTime : fireTime
  const late = (fireTime: Date): boolean => now.getTime() - jitteredRunTime(fireTime).getTime() > graceMs
  const onTime = considered.filter((runTime) => !late(runTime))
  const missed = considered.filter(late)
  const hasSlot = input.instances < job.maxInstances
  const run = hasSlot ? onTime : []
  // The overdue batch takes one instance; the slots left may take occurrences up to the horizon.
  const { ahead, next: following } = takeAhead(input, trigger, nextOccurrence(trigger, next, input.random), job.maxInstances - input.instances - (run.length > 0 ? 1 : 0))
  return {
    run,
    missed,
    maxInstances: hasSlot ? [] : onTime,
    ...(ahead.length > 0 ? { ahead } : {}),
    ...following,
    coalesced: due.length - considered.length + skipped
  }
}

/**
 * Claiming ahead: from occurrence `first` on, the occurrences not yet due whose (jittered) run
 * time is within the horizon, at most `slots` (and `maxCatchUp`); returns them and the occurrence
 * after them, the job's next.
 */
function takeAhead (input: PlanInput, trigger: Trigger, first: NextOccurrence, slots: number): { ahead: NonNullable<ClaimPlan['ahead']>, next: NextOccurrence } {
  const horizon = input.horizon ?? input.now
  const ahead: NonNullable<ClaimPlan['ahead']> = []
  const most = Math.min(slots, input.maxCatchUp)
  let next = first
  while (ahead.length < most && next.nextFireTime !== null && next.nextRunTime !== null && next.nextRunTime > input.now && next.nextRunTime <= horizon) {
    ahead.push({ runTime: next.nextFireTime, startAt: next.nextRunTime })
    next = nextOccurrence(trigger, trigger.getNextFireTime(next.nextFireTime, input.now), input.random)
  }
  return { ahead, next }
}
