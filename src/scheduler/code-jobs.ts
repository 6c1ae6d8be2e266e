/**
 * Upserts jobs declared in code (`registerJob`, `@scheduled`) at start: a new job is added; for an
 * existing one a changed trigger reschedules it, while an unchanged trigger keeps its next run time
 * and paused flag (only the other fields are brought up to date). Processes starting together
 * race safely: an id added by another process in between is treated as existing.
 */
import { ConflictingIdError } from '../errors.js'
import type { JobPatch, JobRecord, JobStore } from '../stores/job-store.js'
import type { CodeJobDefinition, JobOptions, SchedulerLogger } from '../types.js'
import { firstRunTime, validateDefinition } from './job-input.js'
import { nextOccurrence } from './next-occurrence.js'

export interface CodeJobChange {
  kind: 'added' | 'modified'
  job: JobRecord
}

const SYNCED_FIELDS = ['name', 'task', 'args', 'misfireGraceTime', 'coalesce', 'maxInstances', 'timeoutMs'] as const

export async function syncCodeJobs (
  store: JobStore,
  definitions: Array<CodeJobDefinition & { task: string }>,
  context: { defaults: Required<JobOptions>, now: Date, log: SchedulerLogger, random: () => number }
): Promise<CodeJobChange[]> {
  const changes: CodeJobChange[] = []
  for (const definition of definitions) {
    const { record, trigger } = validateDefinition(definition, context.defaults)
    let existing = await store.getJob(record.id)
    if (existing === null) {
      const next = nextOccurrence(trigger, firstRunTime(trigger, context.now), context.random)
      if (next.nextRunTime === null) context.log.warn({ jobId: record.id }, 'job declared in code has no fire time left; stored as finished')
      try {
        changes.push({ kind: 'added', job: await store.addJob({ ...record, ...next }) })
        continue
      } catch (error) {
        if (!(error instanceof ConflictingIdError)) throw error
        existing = await store.getJob(record.id)
        if (existing === null) throw error
      }
    }
    const patch: JobPatch = {}
    for (const field of SYNCED_FIELDS) {
      if (stableJson(existing[field]) !== stableJson(record[field])) Object.assign(patch, { [field]: record[field] })
    }
    if (stableJson(existing.trigger) !== stableJson(record.trigger)) {
      Object.assign(patch, { trigger: record.trigger, lastError: null }, nextOccurrence(trigger, firstRunTime(trigger, context.now), context.random))
      context.log.info({ jobId: record.id }, 'trigger of a job declared in code changed; rescheduled')
    }
    if (Object.keys(patch).length > 0) changes.push({ kind: 'modified', job: await store.updateJob(record.id, patch) })
  }
  return changes
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}
