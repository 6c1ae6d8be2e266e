/**
 * Parsed triggers of stored jobs, cached per job id and trigger JSON: the claim path parses each
 * due job's trigger, and parsing a cron expression on every claim was its hot spot. A trigger that
 * cannot be loaded is cached as the reason, which flags the job.
 */
import { createTrigger } from '../triggers/index.js'
import type { Trigger } from '../triggers/types.js'
import type { JobRecord } from '../stores/job-store.js'

export class TriggerCache {
  readonly #cache = new Map<string, { json: string, trigger: Trigger | { error: string } }>()

  /** The job's parsed trigger, or why its stored trigger cannot be loaded. */
  get (job: Pick<JobRecord, 'id' | 'trigger'>): Trigger | { error: string } {
    const json = JSON.stringify(job.trigger)
    const cached = this.#cache.get(job.id)
    if (cached?.json === json) return cached.trigger
    let trigger: Trigger | { error: string }
    try {
      trigger = createTrigger(job.trigger)
    } catch (error) {
      trigger = { error: `stored trigger cannot be loaded: ${(error as Error).message}; fix it with rescheduleJob` }
    }
    this.#cache.set(job.id, { json, trigger })
    return trigger
  }

  delete (id: string): void {
    this.#cache.delete(id)
  }
}
