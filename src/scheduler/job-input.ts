/**
 * Validates job definitions and changes from callers (API, code definitions) before anything is
 * written: every problem throws `InvalidJobError` / `InvalidTriggerError` naming the field, so
 * nothing is half-written.
 */
import { InvalidJobError } from '../errors.js'
import { isPositiveInteger } from '../options.js'
import type { JobPatch, NewJobRecord } from '../stores/job-store.js'
import { createTrigger } from '../triggers/index.js'
import type { Trigger, TriggerJson } from '../triggers/types.js'
import type { JobChanges, JobDefinition, JobOptions } from '../types.js'
import { nextOccurrence } from './next-occurrence.js'
import { parseRetryPolicy, type RetryPolicy } from './retry-policy.js'

/** Longest accepted job id or task name, in characters. */
export const MAX_ID_LENGTH = 200

/** Largest value of the integer columns (PostgreSQL `integer`). */
const MAX_INTEGER = 2_147_483_647

const DEFINITION_KEYS = new Set(['id', 'task', 'args', 'trigger', 'name', 'paused', 'misfireGraceTime', 'coalesce', 'maxInstances', 'timeoutMs', 'captureLogs', 'retry', 'recover'])

/** A validated definition: the record to store, minus the next run time the caller computes. */
export interface ValidatedJob {
  record: Omit<NewJobRecord, 'nextRunTime'>
  trigger: Trigger
}

export function validateDefinition (definition: JobDefinition, defaults: Required<JobOptions>): ValidatedJob {
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new InvalidJobError('job', 'must be an object like { id, task, trigger, args }')
  }
  checkKeys(definition)
  const id = checkName(definition.id, 'id')
  const task = checkName(definition.task, 'task')
  const trigger = createTrigger(definition.trigger)
  return {
    trigger,
    record: {
      id,
      task,
      name: definition.name === undefined ? id : checkName(definition.name, 'name'),
      args: checkArgs(definition.args ?? []),
      trigger: trigger.toJSON(),
      paused: checkBoolean(definition.paused ?? false, 'paused'),
      misfireGraceTime: checkGrace(definition.misfireGraceTime === undefined ? defaults.misfireGraceTime : definition.misfireGraceTime),
      coalesce: checkBoolean(definition.coalesce ?? defaults.coalesce, 'coalesce'),
      maxInstances: checkMaxInstances(definition.maxInstances ?? defaults.maxInstances),
      timeoutMs: checkTimeout(definition.timeoutMs === undefined ? defaults.timeoutMs : definition.timeoutMs),
      captureLogs: checkBoolean(definition.captureLogs ?? defaults.captureLogs, 'captureLogs'),
      ...checkRecovery(
        checkRetry(definition.retry === undefined ? defaults.retry : definition.retry),
        checkBoolean(definition.recover ?? defaults.recover, 'recover')),
      lastError: null
    }
  }
}

/** Validates `modifyJob` changes; returns the patch and the parsed trigger when one is given. */
export function validateChanges (changes: JobChanges): { patch: JobPatch, trigger: Trigger | null } {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new InvalidJobError('changes', 'must be an object')
  }
  if ('id' in changes) throw new InvalidJobError('id', 'cannot be changed; add a new job and remove this one')
  checkKeys(changes)
  const patch: JobPatch = {}
  let trigger: Trigger | null = null
  if (changes.task !== undefined) patch.task = checkName(changes.task, 'task')
  if (changes.name !== undefined) patch.name = checkName(changes.name, 'name')
  if (changes.args !== undefined) patch.args = checkArgs(changes.args)
  if (changes.paused !== undefined) patch.paused = checkBoolean(changes.paused, 'paused')
  if (changes.coalesce !== undefined) patch.coalesce = checkBoolean(changes.coalesce, 'coalesce')
  if (changes.misfireGraceTime !== undefined) patch.misfireGraceTime = checkGrace(changes.misfireGraceTime)
  if (changes.maxInstances !== undefined) patch.maxInstances = checkMaxInstances(changes.maxInstances)
  if (changes.timeoutMs !== undefined) patch.timeoutMs = checkTimeout(changes.timeoutMs)
  if (changes.captureLogs !== undefined) patch.captureLogs = checkBoolean(changes.captureLogs, 'captureLogs')
  if (changes.retry !== undefined) patch.retry = checkRetry(changes.retry)
  if (changes.recover !== undefined) patch.recover = checkBoolean(changes.recover, 'recover')
  if (patch.retry !== undefined && patch.recover !== undefined) checkRecovery(patch.retry, patch.recover)
  if (changes.trigger !== undefined) {
    trigger = createTrigger(changes.trigger)
    patch.trigger = trigger.toJSON()
  }
  return { patch, trigger }
}

/**
 * The first fire time of a newly (re)scheduled trigger at `now`. An `interval` without
 * `startDate` first fires one period after it is scheduled (APScheduler 3 `IntervalTrigger`).
 */
export function firstRunTime (trigger: Trigger, now: Date): Date | null {
  const json: TriggerJson = trigger.toJSON()
  if (json.type === 'interval' && json.startDate === undefined) return trigger.getNextFireTime(now, now)
  return trigger.getNextFireTime(null, now)
}

function checkKeys (value: object): void {
  for (const key of Object.keys(value)) {
    if (!DEFINITION_KEYS.has(key)) throw new InvalidJobError(key, `is not a job field; known fields: ${[...DEFINITION_KEYS].join(', ')}`)
  }
}

function checkName (value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidJobError(field, 'must be a non-empty string')
  if (value.length > MAX_ID_LENGTH) throw new InvalidJobError(field, `must be at most ${MAX_ID_LENGTH} characters, got ${value.length}`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidJobError(field, 'must not contain control characters')
  return value
}

function checkArgs (value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new InvalidJobError('args', 'must be a JSON array (passed to the handler after ctx)')
  let json: string
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new InvalidJobError('args', `must be JSON-serialisable: ${(error as Error).message}`)
  }
  const roundTrip: unknown = JSON.parse(json)
  if (containsNul(roundTrip)) throw new InvalidJobError('args', 'must not contain the NUL character (\\u0000): PostgreSQL jsonb cannot store it')
  if (!isDeepEqualJson(value, roundTrip)) {
    throw new InvalidJobError('args', 'must hold JSON values only (no functions, undefined, Dates, class instances, NaN or Infinity); pass dates as ISO strings')
  }
  return roundTrip as unknown[]
}

function containsNul (value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (Array.isArray(value)) return value.some(containsNul)
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item))
  return false
}

function isDeepEqualJson (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => isDeepEqualJson(item, b[i]))
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Object.getPrototypeOf(a) !== Object.prototype) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => isDeepEqualJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}

function checkBoolean (value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidJobError(field, `must be true or false, got ${JSON.stringify(value)}`)
  return value
}

function checkGrace (value: unknown): number | null {
  if (value !== null && (!isPositiveInteger(value) || value > MAX_INTEGER)) {
    throw new InvalidJobError('misfireGraceTime', `must be null (always run) or a positive whole number of seconds up to ${MAX_INTEGER}, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkMaxInstances (value: unknown): number {
  if (!isPositiveInteger(value) || value > MAX_INTEGER) throw new InvalidJobError('maxInstances', `must be a positive integer up to ${MAX_INTEGER}, got ${JSON.stringify(value)}`)
  return value
}

function checkRetry (value: unknown): RetryPolicy | null {
  return parseRetryPolicy(value, (field, rule) => { throw new InvalidJobError(field, rule) })
}

/**
 * `recover` counts the recovered attempt against `retry.attempts`, so it needs a policy with at least
 * two; checked where both are known (a new job, or a change that sets both).
 */
function checkRecovery (retry: RetryPolicy | null, recover: boolean): { retry: RetryPolicy | null, recover: boolean } {
  if (recover && retry === null) {
    throw new InvalidJobError('recover', 'needs attempts to recover with: a recovered run is another attempt, counted against retry.attempts; set retry: { attempts: 2 } or more')
  }
  return { retry, recover }
}

function checkTimeout (value: unknown): number | null {
  if (value !== null && (!isPositiveInteger(value) || value > MAX_INTEGER)) {
    throw new InvalidJobError('timeoutMs', `must be null (no limit) or a positive number of milliseconds up to ${MAX_INTEGER}, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * New job records with their first occurrence computed from `now` (the database clock).
 * @throws InvalidJobError for a job whose trigger has no fire time after `now`.
 */
export function scheduleNewJobs (validated: Array<ReturnType<typeof validateDefinition>>, now: Date, random: () => number): NewJobRecord[] {
  return validated.map(({ record, trigger }) => {
    const next = nextOccurrence(trigger, firstRunTime(trigger, now), random)
    if (next.nextRunTime === null) throw new InvalidJobError('trigger', `job '${record.id}' would never fire: its trigger has no fire time after ${now.toISOString()}`)
    return { ...record, ...next }
  })
}
