/**
 * Jobs written without the scheduler: a process that has the ORM and our entities but not the
 * plugin (a seed script, an admin tool) or plain SQL inserts a job row with `next_run_time` null.
 * Read as it stands that means "finished", so such a job would never run. Whichever node's loop
 * next looks (at most every `pollIntervalMs`) computes its first occurrence from its trigger, as
 * `addJob` would have, and writes it only if nobody wrote the job meanwhile (`version` compared).
 * A job whose first fire time has already passed is left finished: it cannot be told apart from a
 * finished job whose execution history was deleted, and running it could run an occurrence twice.
 * A trigger that cannot be loaded flags the job (`last_error`), never deletes it.
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import { createTrigger } from '../triggers/index.js'
import type { JobStore } from '../stores/job-store.js'
import { firstRunTime } from './job-input.js'
import { nextOccurrence } from './next-occurrence.js'

export class UnscheduledJobs {
  readonly #options: ResolvedSchedulerOptions
  #lastCheck = -Infinity

  constructor (options: ResolvedSchedulerOptions) {
    this.#options = options
  }

  /** Schedules the unscheduled jobs when the last check is `pollIntervalMs` old (or `force`). Returns the ids it scheduled or flagged. */
  async check (force = false): Promise<string[]> {
    const { store, pollIntervalMs, batchSize, random, clock, log, statementTimeoutMs } = this.#options
    if (!force && performance.now() - this.#lastCheck < pollIntervalMs) return []
    if (store.getUnscheduledJobs === undefined || store.scheduleUnscheduledJob === undefined) return []
    this.#lastCheck = performance.now()
    const jobs = await store.getUnscheduledJobs(batchSize, { timeoutMs: statementTimeoutMs })
    if (jobs.length === 0) return []
    const now = clock?.() ?? await store.now()
    const written: string[] = []
    for (const job of jobs) {
      let patch: Parameters<NonNullable<JobStore['scheduleUnscheduledJob']>>[2]
      try {
        const trigger = createTrigger(job.trigger)
        patch = nextOccurrence(trigger, firstRunTime(trigger, now), random)
        if (patch.nextRunTime === null) continue // a trigger with no fire time left: the job is finished indeed
        // A first fire time already past (a `date` trigger whose date has gone) is left finished: the
        // row looks the same as a job that ran and whose history `deleteOldExecutions` removed, and
        // scheduling it would run that occurrence a second time. Reschedule it to run it.
        const fireTime = patch.nextFireTime ?? patch.nextRunTime
        if (fireTime != null && fireTime.getTime() < now.getTime()) {
          log.info({ jobId: job.id, fireTime }, 'job written without the scheduler has only a past fire time: left finished (reschedule it to run it)')
          continue
        }
      } catch (error) {
        patch = { lastError: `stored trigger cannot be loaded: ${(error as Error).message}; fix it with rescheduleJob` }
      }
      if (await store.scheduleUnscheduledJob(job.id, job.version, patch)) {
        log.info({ jobId: job.id, nextRunTime: patch.nextRunTime, lastError: patch.lastError }, 'job written without the scheduler: first occurrence computed')
        written.push(job.id)
      }
    }
    return written
  }
}
