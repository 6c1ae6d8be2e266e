/**
 * Upserts jobs declared in code (`registerJob`, `@scheduled`) at start: a new job is added; for an
 * existing one a changed trigger reschedules it, while an unchanged trigger keeps its next run time
 * and paused flag (only the other fields are brought up to date). Processes starting together
 * race safely: an id added by another process in between is treated as existing.
 */
import { ConflictingIdError, JobConflictError, VersionMismatchError } from '../errors.js'
import type { AuditAction, AuditContext } from '../stores/audit.js'
import type { JobPatch, JobRecord, JobStore } from '../stores/job-store.js'
import type { CodeJobDefinition, JobOptions, SchedulerLogger } from '../types.js'
import { firstRunTime, validateDefinition } from './job-input.js'
import { nextOccurrence } from './next-occurrence.js'
import { READ_MODIFY_WRITE_ATTEMPTS } from './read-modify-write.js'

export interface CodeJobChange {
  kind: 'added' | 'modified'
  job: JobRecord
}

const SYNCED_FIELDS = ['name', 'task', 'args', 'misfireGraceTime', 'coalesce', 'maxInstances', 'timeoutMs', 'captureLogs', 'retry', 'recover'] as const

export async function syncCodeJobs (
  store: JobStore,
  definitions: Array<CodeJobDefinition & { task: string }>,
  context: { defaults: Required<JobOptions>, now: Date, log: SchedulerLogger, random: () => number, audit?: (action: AuditAction) => AuditContext }
): Promise<CodeJobChange[]> {
  const changes: CodeJobChange[] = []
  for (const definition of definitions) {
    const { record, trigger } = validateDefinition(definition, context.defaults)
    // A read-modify-write (the patch depends on what is stored): repeated while another writer
    // changes the job between the read and the version-checked write.
    for (let attempt = 1; ; attempt++) {
      const change = await syncOne(store, record, trigger, context)
      if (change === 'conflict') {
        if (attempt >= READ_MODIFY_WRITE_ATTEMPTS) throw new JobConflictError(record.id, attempt)
        continue
      }
      if (change !== null) changes.push(change)
      break
    }
  }
  return changes
}

async function syncOne (
  store: JobStore, record: ReturnType<typeof validateDefinition>['record'], trigger: ReturnType<typeof validateDefinition>['trigger'],
  context: { now: Date, log: SchedulerLogger, random: () => number, audit?: (action: AuditAction) => AuditContext }
): Promise<CodeJobChange | null | 'conflict'> {
  let existing = await store.getJob(record.id)
  if (existing === null) {
    const next = nextOccurrence(trigger, firstRunTime(trigger, context.now), context.random)
    if (next.nextRunTime === null) context.log.warn({ jobId: record.id }, 'job declared in code has no fire time left; stored as finished')
    try {
      const audit = context.audit?.('added')
      return { kind: 'added', job: await store.addJob({ ...record, ...next }, audit === undefined ? {} : { audit }) }
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
  if (Object.keys(patch).length === 0) return null
  try {
    const audit = context.audit?.('trigger' in patch ? 'rescheduled' : 'modified')
    return { kind: 'modified', job: await store.updateJob(record.id, patch, audit === undefined ? { expectedVersion: existing.version } : { expectedVersion: existing.version, audit }) }
  } catch (error) {
    if (error instanceof VersionMismatchError) return 'conflict'
    throw error
  }
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}

/**
 * Clears `lastError` of the flagged jobs `canRun` accepts (their task is registered now and their
 * trigger loads), only at the version that was checked: a job changed meanwhile is checked again at
 * the next start. Returns the jobs it cleared.
 */
export async function unflagFixedJobs (store: JobStore, canRun: (job: JobRecord) => boolean, log: SchedulerLogger): Promise<JobRecord[]> {
  const cleared: JobRecord[] = []
  for (const job of await store.getJobs({ flagged: true })) {
    if (!canRun(job)) continue
    log.info({ jobId: job.id, was: job.lastError }, 'job can run again; flag cleared')
    try {
      cleared.push(await store.updateJob(job.id, { lastError: null }, { expectedVersion: job.version }))
    } catch (error) {
      if (!(error instanceof VersionMismatchError)) throw error
    }
  }
  return cleared
}
