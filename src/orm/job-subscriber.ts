/**
 * Jobs as ORM rows: a MikroORM event subscriber (registered by the plugin) that makes
 * `em.create(SchedulerJob, { id, task, trigger })` + `em.flush()` a supported way to manage jobs.
 *
 * - before a `SchedulerJob` is inserted: the row is validated like `addJob` (trigger, task
 *   registered in this process, options), defaults are filled in (name = id, args = [], the
 *   scheduler's `jobDefaults`), the trigger is normalised and the next fire/run times computed;
 * - before an update: a changed trigger is validated and reschedules the job (next times from
 *   now); a changed task or option is validated; any change clears `lastError`;
 * - after a flush that wrote `SchedulerJob` rows: the scheduler is woken (NOTIFY to every process);
 * - every created, updated or deleted job gets its audit row (actor `'orm'`, `flush-audit.ts`), in the
 *   flush's transaction when the scheduler's tables are on the ORM's database (the default store),
 *   else through the scheduler's store once the flush has committed.
 *
 * An invalid row makes `flush()` throw the same error `addJob` would (`InvalidTriggerError`,
 * `InvalidJobError`, `TaskNotRegisteredError`) and, flush being one transaction, nothing is written.
 */
import type { EntityManager, EventArgs, EventSubscriber, FlushEventArgs } from '@mikro-orm/core'
import { SchedulerJob } from '../entities/scheduler-job.js'
import { TaskNotRegisteredError } from '../errors.js'
import { firstRunTime, validateChanges, validateDefinition } from '../scheduler/job-input.js'
import { nextOccurrence } from '../scheduler/next-occurrence.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import type { AuditEntry } from '../stores/audit.js'
import { flushEntry, jobFields, writeFlushAudit } from './flush-audit.js'
import type { JobDefinition } from '../types.js'

/** Entity fields a host may set, as `JobDefinition` keys. */
const DEFINITION_FIELDS = ['id', 'task', 'args', 'trigger', 'name', 'paused', 'misfireGraceTime', 'coalesce', 'maxInstances', 'timeoutMs', 'captureLogs', 'retry', 'recover'] as const

/** Fields whose change goes through `validateChanges`. */
const CHANGE_FIELDS = DEFINITION_FIELDS.filter((field) => field !== 'id')

/** Where the audit rows of flushes go: `schema` of the scheduler's tables on the ORM's database, or `'store'` (the scheduler's own store, after the flush). */
export interface FlushAuditTarget {
  schema: string | null | 'store'
}

export class SchedulerJobSubscriber implements EventSubscriber<SchedulerJob> {
  #scheduler: Scheduler | null
  readonly #audit: FlushAuditTarget
  /** Entries waiting for their flush to commit (`'store'` target), by flushing EntityManager. */
  readonly #pending = new WeakMap<EntityManager, AuditEntry[]>()

  constructor (scheduler: Scheduler, audit: FlushAuditTarget = { schema: 'store' }) {
    this.#scheduler = scheduler
    this.#audit = audit
  }

  /** Stops validating and notifying (the plugin's app closed; MikroORM cannot unregister a subscriber). */
  detach (): void {
    this.#scheduler = null
  }

  getSubscribedEntities (): Array<typeof SchedulerJob> {
    return [SchedulerJob]
  }

  async beforeCreate (args: EventArgs<SchedulerJob>): Promise<void> {
    const scheduler = this.#scheduler
    if (scheduler === null) return
    const entity = args.entity as unknown as Record<string, unknown>
    const definition = Object.fromEntries(DEFINITION_FIELDS.filter((field) => entity[field] !== undefined).map((field) => [field, entity[field]]))
    const { record, trigger } = validateDefinition(definition as unknown as JobDefinition, scheduler.options.jobDefaults)
    requireTask(scheduler, record.task)
    const next = nextOccurrence(trigger, firstRunTime(trigger, await scheduler.now()), scheduler.options.random)
    Object.assign(entity, record, next)
  }

  async beforeUpdate (args: EventArgs<SchedulerJob>): Promise<void> {
    const scheduler = this.#scheduler
    const payload = args.changeSet?.payload as Record<string, unknown> | undefined
    if (scheduler === null || payload === undefined) return
    // The payload says which fields changed; their values are read from the entity (the payload
    // holds json columns already serialised).
    const entity = args.entity as unknown as Record<string, unknown>
    const changed = Object.fromEntries(CHANGE_FIELDS.filter((field) => field in payload).map((field) => [field, entity[field]]))
    if (Object.keys(changed).length === 0) return
    const { patch, trigger } = validateChanges(changed)
    if (patch.task !== undefined) requireTask(scheduler, patch.task)
    Object.assign(entity, patch, { lastError: null })
    if (trigger !== null) Object.assign(entity, nextOccurrence(trigger, firstRunTime(trigger, await scheduler.now()), scheduler.options.random))
  }

  async afterCreate (args: EventArgs<SchedulerJob>): Promise<void> {
    await this.#record(args, 'create', null, args.entity as unknown as Record<string, unknown>)
  }

  async afterUpdate (args: EventArgs<SchedulerJob>): Promise<void> {
    await this.#record(args, 'update', args.changeSet?.originalEntity as Record<string, unknown> | undefined, args.entity as unknown as Record<string, unknown>)
  }

  async afterDelete (args: EventArgs<SchedulerJob>): Promise<void> {
    await this.#record(args, 'delete', args.entity as unknown as Record<string, unknown>, null)
  }

  beforeFlush (args: FlushEventArgs): void {
    this.#pending.delete(args.em)
  }

  afterFlush (args: FlushEventArgs): void {
    const scheduler = this.#scheduler
    if (scheduler === null) return
    const pending = this.#pending.get(args.em)
    this.#pending.delete(args.em)
    if (pending !== undefined) {
      scheduler.options.store.recordAudit(pending).catch((error: Error) => { this.#reportAuditFailure(scheduler, error) })
    }
    if (args.uow.getChangeSets().some((changeSet) => changeSet.entity instanceof SchedulerJob)) scheduler.wakeup()
  }

  /** The audit row of one change set: written in the flush's transaction, or kept for the store until the flush commits. Never throws. */
  async #record (args: EventArgs<SchedulerJob>, type: 'create' | 'update' | 'delete', before: Record<string, unknown> | null | undefined, after: Record<string, unknown> | null): Promise<void> {
    const scheduler = this.#scheduler
    if (scheduler === null) return
    let entry: AuditEntry
    try {
      entry = flushEntry(type, before === null ? null : jobFields(args.meta, before), after === null ? null : jobFields(args.meta, after), scheduler.options.clock?.() ?? null)
    } catch (error) {
      this.#reportAuditFailure(scheduler, error as Error)
      return
    }
    if (this.#audit.schema === 'store') {
      this.#pending.set(args.em, [...(this.#pending.get(args.em) ?? []), entry])
      return
    }
    const failed = await writeFlushAudit(args.em, [entry], this.#audit.schema)
    if (failed !== null) this.#reportAuditFailure(scheduler, failed)
  }

  #reportAuditFailure (scheduler: Scheduler, error: Error): void {
    scheduler.options.log.warn({ err: error }, 'could not write the audit row of a job written through the ORM; the change itself was made')
  }
}

function requireTask (scheduler: Scheduler, task: string): void {
  if (!scheduler.hasTask(task)) throw new TaskNotRegisteredError(task)
}
