/**
 * Jobs as ORM rows: a MikroORM event subscriber (registered by the plugin) that makes
 * `em.create(SchedulerJob, { id, task, trigger })` + `em.flush()` a supported way to manage jobs.
 *
 * - before a `SchedulerJob` is inserted: the row is validated like `addJob` (trigger, task
 *   registered in this process, options), defaults are filled in (name = id, args = [], the
 *   scheduler's `jobDefaults`), the trigger is normalised and the next fire/run times computed;
 * - before an update: a changed trigger is validated and reschedules the job (next times from
 *   now); a changed task or option is validated; any change clears `lastError`;
 * - after a flush that wrote `SchedulerJob` rows: the scheduler is woken (NOTIFY to every process).
 *
 * An invalid row makes `flush()` throw the same error `addJob` would (`InvalidTriggerError`,
 * `InvalidJobError`, `TaskNotRegisteredError`) and, flush being one transaction, nothing is written.
 */
import type { EventArgs, EventSubscriber, FlushEventArgs } from '@mikro-orm/core'
import { SchedulerJob } from '../entities/scheduler-job.js'
import { TaskNotRegisteredError } from '../errors.js'
import { firstRunTime, validateChanges, validateDefinition } from '../scheduler/job-input.js'
import { nextOccurrence } from '../scheduler/next-occurrence.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import type { JobDefinition } from '../types.js'

/** Entity fields a host may set, as `JobDefinition` keys. */
const DEFINITION_FIELDS = ['id', 'task', 'args', 'trigger', 'name', 'paused', 'misfireGraceTime', 'coalesce', 'maxInstances', 'timeoutMs', 'captureLogs', 'retry', 'recover'] as const

/** Fields whose change goes through `validateChanges`. */
const CHANGE_FIELDS = DEFINITION_FIELDS.filter((field) => field !== 'id')

export class SchedulerJobSubscriber implements EventSubscriber<SchedulerJob> {
  #scheduler: Scheduler | null

  constructor (scheduler: Scheduler) {
    this.#scheduler = scheduler
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

  afterFlush (args: FlushEventArgs): void {
    if (this.#scheduler === null) return
    if (args.uow.getChangeSets().some((changeSet) => changeSet.entity instanceof SchedulerJob)) this.#scheduler.wakeup()
  }
}

function requireTask (scheduler: Scheduler, task: string): void {
  if (!scheduler.hasTask(task)) throw new TaskNotRegisteredError(task)
}
