/**
 * The scheduler's side of the audit trail (issue #14): who a change is recorded for, what an audit
 * write that fails does, and the reads and retention of `scheduler_audit` behind the API.
 *
 * Actors: a public job method's `{ actor }` (default {@link CODE_ACTOR}); jobs declared in code
 * (`registerJob`, `@scheduled`, the plugin's `jobs` option), upserted at start, are recorded as
 * {@link CODE_ACTOR} too; the REST routes pass their `actor` hook's answer (default the guard's
 * `request.user.id`, else `'api'`); ORM flushes record `'orm'`.
 *
 * An audit row is written by the store in the job change's own transaction. When writing it fails
 * (the change still commits), the failure is logged as a warning and emitted as `scheduler:error`
 * (`during: 'audit'`); nothing is thrown.
 */
import { InvalidJobError } from '../errors.js'
import { auditActor, type AuditAction, type AuditContext, type AuditFilter, type AuditRecord } from '../stores/audit.js'
import type { JobStore } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { SchedulerEventBus } from './events.js'

/** The actor of changes made by code: API calls without `{ actor }`, and the start-up sync of jobs declared in code. */
export const CODE_ACTOR = 'code'

/** The optional last argument of the scheduler's job methods. */
export interface AuditOptions {
  /**
   * Who makes the change, recorded in the audit trail: a non-empty string (NUL bytes and lone
   * surrogates replaced, cut at 200 characters). Default `'code'`.
   */
  actor?: string
}

export class AuditTrail {
  readonly #store: JobStore
  readonly #log: SchedulerLogger
  readonly #events: SchedulerEventBus
  readonly #clock: (() => Date) | null

  constructor (options: { store: JobStore, log: SchedulerLogger, events: SchedulerEventBus, clock: (() => Date) | null }) {
    this.#store = options.store
    this.#log = options.log
    this.#events = options.events
    this.#clock = options.clock
  }

  /**
   * What the store records for a change: `action` by the caller's actor (default `'code'`).
   * @throws InvalidJobError when `options.actor` is given but not a non-empty string (nothing is written).
   */
  context (action: AuditAction, options: AuditOptions | undefined): AuditContext {
    const actor = options?.actor
    if (actor !== undefined && (typeof actor !== 'string' || actor.trim() === '')) {
      throw new InvalidJobError('actor', `must be a non-empty string naming who makes the change, got ${typeof actor === 'string' ? '""' : typeof actor}`)
    }
    return {
      action,
      actor: auditActor(actor, CODE_ACTOR),
      at: this.#clock?.() ?? null,
      onError: (error) => {
        this.#log.warn({ err: error, action }, 'could not write the audit row of a job change; the change itself was made')
        this.#events.emit('scheduler:error', { error, during: 'audit' })
      }
    }
  }

  /** Rows newest first, filtered and paginated. */
  async get (filter: AuditFilter): Promise<AuditRecord[]> {
    return this.#store.getAudit(filter)
  }

  async count (filter: AuditFilter): Promise<number> {
    return this.#store.countAudit(filter)
  }

  /** @throws InvalidJobError when `maxAgeSeconds` is not a non-negative number. */
  async deleteOld (maxAgeSeconds: number): Promise<number> {
    if (typeof maxAgeSeconds !== 'number' || !Number.isFinite(maxAgeSeconds) || maxAgeSeconds < 0) {
      throw new InvalidJobError('maxAgeSeconds', 'must be a non-negative number of seconds')
    }
    return this.#store.deleteOldAudit(maxAgeSeconds, this.#clock?.() ?? null)
  }
}
