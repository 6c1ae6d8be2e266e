/**
 * Decorator-style job registration, the two forms beside `scheduler.registerJob(definition, handler)`:
 *
 * - curried, like django-apscheduler's `@register_job(scheduler, "interval", seconds=3, id="test_job")`:
 *   `registerJob(app.scheduler, { type: 'interval', seconds: 3 }, { id: 'test_job' })(handler)`
 * - a standard (TC39) method decorator, `@scheduled({ trigger, ...options })`, with
 *   `registerJobs(scheduler, instance)` (or `app.scheduler.registerJobs(instance)`) to register the
 *   decorated methods of an instance, bound to it.
 *
 * All forms persist the job and upsert it at start (see `Scheduler.registerJob`).
 */
import { InvalidJobError } from './errors.js'
import type { Scheduler } from './scheduler/scheduler.js'
import type { TriggerJson } from './triggers/types.js'
import type { CodeJobDefinition, TaskHandler } from './types.js'

/** Options of the curried form and of `@scheduled`: a code job definition whose id may be left out. */
export type ScheduledOptions = Omit<CodeJobDefinition, 'id' | 'trigger'> & { id?: string }

/**
 * Curried registration. The job id defaults to the handler's function name.
 * @returns a function that registers `handler` and returns it unchanged (so it can wrap a declaration).
 * @throws InvalidJobError when no id is given and the handler is anonymous; the errors of `Scheduler.registerJob`.
 */
export function registerJob (scheduler: Scheduler, trigger: TriggerJson, options: ScheduledOptions = {}): <H extends TaskHandler>(handler: H) => H {
  return (handler) => {
    const id = options.id ?? handler.name
    if (id === '') throw new InvalidJobError('id', 'is required for an anonymous handler: registerJob(scheduler, trigger, { id })(handler)')
    scheduler.registerJob({ ...options, id, trigger }, handler)
    return handler
  }
}

const scheduledMethods = new WeakMap<object, Array<{ method: string, trigger: TriggerJson, options: ScheduledOptions }>>()

/**
 * Marks a class method as a scheduled job (TC39 decorator; TypeScript 5+ without
 * `experimentalDecorators`). The job id defaults to `ClassName.methodName`. Register an instance's
 * decorated methods with `registerJobs(scheduler, instance)`.
 */
export function scheduled (trigger: TriggerJson, options: ScheduledOptions = {}) {
  return function <This extends object, H extends TaskHandler>(_method: H, context: ClassMethodDecoratorContext<This, H>): void {
    if (context.static || context.private) {
      throw new InvalidJobError('@scheduled', `can only decorate public instance methods, not ${String(context.name)}`)
    }
    context.addInitializer(function (this: This) {
      const prototype = Object.getPrototypeOf(this) as object
      const list = scheduledMethods.get(prototype) ?? []
      if (!list.some((entry) => entry.method === context.name)) list.push({ method: String(context.name), trigger, options })
      scheduledMethods.set(prototype, list)
    })
  }
}

/**
 * Registers every `@scheduled` method of `instance` (and of its parent classes) as a job, bound to
 * the instance. Returns the job ids.
 */
export function registerJobs (scheduler: Scheduler, instance: object): string[] {
  const ids: string[] = []
  for (let prototype = Object.getPrototypeOf(instance) as object | null; prototype !== null && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype) as object | null) {
    for (const { method, trigger, options } of scheduledMethods.get(prototype) ?? []) {
      const handler = (instance as Record<string, TaskHandler>)[method] as TaskHandler
      const id = options.id ?? `${instance.constructor.name}.${method}`
      scheduler.registerJob({ ...options, id, trigger }, handler.bind(instance))
      ids.push(id)
    }
  }
  return ids
}
