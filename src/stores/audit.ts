/**
 * The audit trail (`scheduler_audit`, issue #14): one row per change made to a job through the
 * API, the REST routes (and so the admin page) or an ORM flush: when, what (`action`), which job,
 * who (`actor`) and the changed fields with their values before and after.
 *
 * The store writes a job change and its audit row in one transaction where it makes the change in
 * one (`AuditContext` passed to the job write); this module holds the shapes and the pure parts
 * every store and the ORM subscriber share: the field diff and the bounded, sanitised texts.
 * The scheduler's own writes (claims advancing the next run time, flags, lease bookkeeping) are
 * not audited: they are not changes anybody made.
 */
import { JsonTooLargeError, saneJson } from '../scheduler/result.js'
import { sanitiseText } from '../text/sanitise.js'
import type { JobRecord } from './job-store.js'

/** What was done to a job. `run`: an extra run was requested (`runJob`); the job itself is unchanged. */
export const AUDIT_ACTIONS = ['added', 'modified', 'rescheduled', 'paused', 'resumed', 'removed', 'run'] as const
export type AuditAction = typeof AUDIT_ACTIONS[number]

/** Most characters kept of an actor (longer ones are cut, with a note). */
export const MAX_ACTOR_CHARS = 200
/** Largest `changes` document kept, in characters of JSON (64 KiB); a larger one keeps a note per field. */
export const MAX_AUDIT_CHANGES_CHARS = 64 * 1024
/** Most characters of one string inside `changes` (a job's args may hold long texts). */
const MAX_CHANGE_STRING_CHARS = 4096

/** One field's values around a change, as JSON (dates as ISO-8601 strings); `null` before an add and after a removal. */
export interface AuditChange {
  before: unknown
  after: unknown
}

/** An audit row as read. */
export interface AuditRecord {
  id: number
  /** When the change was made (the store's clock). */
  at: Date
  action: AuditAction
  jobId: string
  /** Who made it: the REST `actor` hook's answer, `{ actor }` of an API call, `'code'`, `'orm'` or `'api'`. */
  actor: string
  /** The fields that changed, by `JobRecord` field name. `run` records `{ executionId: { before: null, after: id } }`. */
  changes: Record<string, AuditChange>
}

/** What a job write records about itself, passed to the store's job write methods. */
export interface AuditContext {
  action: AuditAction
  /** Who; sanitised and bounded by the store ({@link auditActor}). */
  actor: string
  /** The time to record; `null` or absent: the store's clock (PostgreSQL `now()`). */
  at?: Date | null
  /**
   * Called when the audit row could not be written (the job change itself still commits: an audit
   * failure never fails the change). Absent: the failure is ignored.
   */
  onError?: (error: Error) => void
}

/** An audit row to write: the context, the job and its changes as sanitised JSON text. */
export interface AuditEntry {
  action: AuditAction
  actor: string
  jobId: string
  at: Date | null
  /** `changes` as JSON text, from {@link auditChangesJson}. */
  changesJson: string
}

/** Filter of `getAudit` / `countAudit`: all given conditions hold. Times bound `at` inclusively. */
export interface AuditFilter {
  jobId?: string
  actor?: string
  from?: Date
  to?: Date
  limit?: number
  offset?: number
}

/** Actions of a job update, whose recorded action is decided from what changed (`updateAction`). */
const UPDATE_ACTIONS = new Set<AuditAction>(['modified', 'rescheduled', 'paused', 'resumed'])

/** Job fields not recorded: bookkeeping every write moves, and the fire time that mirrors `nextRunTime`. */
const UNAUDITED_FIELDS = new Set(['createdAt', 'updatedAt', 'version', 'nextFireTime'])

/**
 * The fields that differ between two versions of a job (`null` for a job that did not exist, or no
 * longer does), as JSON values. Every other `JobRecord` field is compared, so fields added later are
 * audited without change here.
 */
export function jobChanges (before: Partial<JobRecord> | null, after: Partial<JobRecord> | null): Record<string, AuditChange> {
  const changes: Record<string, AuditChange> = {}
  const fields = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  for (const field of fields) {
    if (UNAUDITED_FIELDS.has(field)) continue
    const was = jsonValue(before === null ? null : (before as Record<string, unknown>)[field])
    const is = jsonValue(after === null ? null : (after as Record<string, unknown>)[field])
    if (canonicalJson(was) !== canonicalJson(is)) changes[field] = { before: was, after: is }
  }
  return changes
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }) ?? 'null'
}

/** A value as the audit stores it: dates as ISO strings, undefined as null. */
function jsonValue (value: unknown): unknown {
  if (value === undefined) return null
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  return value
}

/**
 * `changes` as JSON text jsonb accepts: every string sanitised (no NUL, no lone surrogate) and cut at
 * 4096 characters; a document over {@link MAX_AUDIT_CHANGES_CHARS} keeps, per field, a note saying
 * so. Never throws.
 */
export function auditChangesJson (changes: Record<string, AuditChange>): string {
  try {
    return saneJson(changes, { maxChars: MAX_CHANGE_STRING_CHARS, budget: MAX_AUDIT_CHANGES_CHARS }) ?? '{}'
  } catch (error) {
    const why = error instanceof JsonTooLargeError ? `larger than ${MAX_AUDIT_CHANGES_CHARS} characters of JSON` : 'not JSON-serialisable'
    const note = `[change not stored: ${why}]`
    return JSON.stringify(Object.fromEntries(Object.keys(changes).slice(0, 100).map((field) => [sanitiseText(field, 200), { before: note, after: note }])))
  }
}

/** An actor as stored: a non-empty string, sanitised and cut at {@link MAX_ACTOR_CHARS} characters (code points); else `fallback`. */
export function auditActor (actor: unknown, fallback: string): string {
  if (typeof actor !== 'string' || actor.trim() === '') return fallback
  // Cut by code points after sanitising (which may keep a little more, with a note): never half a pair.
  return Array.from(sanitiseText(actor, MAX_ACTOR_CHARS)).slice(0, MAX_ACTOR_CHARS).join('')
}

/**
 * The action of an update, decided from what changed (the same rule for every path: API, REST,
 * the admin form, which sends the whole job, and ORM flushes). Ignoring what the write itself moves
 * (`nextRunTime`, `lastError`): only `paused` changed → `paused` or `resumed`; only `trigger` →
 * `rescheduled`; nothing → the action asked for; anything else → `modified`.
 */
export function updateAction (requested: AuditAction, changes: Record<string, AuditChange>): AuditAction {
  const own = Object.keys(changes).filter((field) => field !== 'nextRunTime' && field !== 'lastError')
  if (own.length === 0) return requested
  if (own.length === 1 && own[0] === 'paused') return changes.paused?.after === true ? 'paused' : 'resumed'
  if (own.length === 1 && own[0] === 'trigger') return 'rescheduled'
  return 'modified'
}

/** The row to write for a change of one job (the text fields sanitised, the changes bounded). An update's action follows {@link updateAction}. */
export function auditEntry (context: AuditContext, jobId: string, changes: Record<string, AuditChange>): AuditEntry {
  return {
    action: UPDATE_ACTIONS.has(context.action) ? updateAction(context.action, changes) : context.action,
    actor: auditActor(context.actor, 'code'),
    jobId: sanitiseText(jobId, 1000),
    at: context.at ?? null,
    changesJson: auditChangesJson(changes)
  }
}

/** Reports an audit write that failed to the context's `onError`, which must not throw either. */
export function reportAuditFailure (context: AuditContext, error: unknown): void {
  try {
    context.onError?.(error instanceof Error ? error : new Error(String(error)))
  } catch {}
}
