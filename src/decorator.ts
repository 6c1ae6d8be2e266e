/**
 * Where the plugin puts the scheduler on the Fastify instance: under a name (`decorator`, default
 * `'scheduler'`: `app.scheduler`) chosen by the host, since another plugin may hold that name (the
 * official `@fastify/schedule` decorates `app.scheduler` with a toad-scheduler), and always under a
 * symbol, so `schedulerOf(app)` and the admin routes find it whatever the name.
 */
import type { FastifyInstance } from 'fastify'
import { InvalidOptionsError } from './errors.js'
import type { Scheduler } from './scheduler/scheduler.js'

/** Default decorator name: `app.scheduler`. */
export const DEFAULT_DECORATOR = 'scheduler'

/** The symbol every registration also decorates with; read it through {@link schedulerOf}. */
export const kScheduler = Symbol.for('fastify-mikro-scheduler.scheduler')

/** Fastify keeps the names of the `fastify-plugin` plugins registered so far under this symbol (lib/plugin-utils.js). */
const kRegisteredPlugins = Symbol.for('registered-plugin')

/** Who decorates what, for naming the holder of a taken name: well-known plugins. */
const KNOWN_HOLDERS: Record<string, string> = { scheduler: '@fastify/schedule' }

/**
 * The scheduler registered on `app` (or an ancestor), whatever its decorator name; typed.
 * @throws InvalidOptionsError when `schedulerPlugin` is not registered on `app` or an ancestor.
 */
export function schedulerOf (app: FastifyInstance): Scheduler {
  const scheduler = (app as unknown as Record<symbol, Scheduler | undefined>)[kScheduler]
  if (scheduler === undefined) {
    throw new InvalidOptionsError('scheduler', 'fastify-mikro-scheduler is not registered on this Fastify instance: register schedulerPlugin first (app.register(schedulerPlugin, { orm }))')
  }
  return scheduler
}

/**
 * Decorates `app[name]` and `app[kScheduler]` with `scheduler`.
 * @throws InvalidOptionsError when the plugin is already registered here, when `name` is not an
 *   identifier, or when `name` is taken, naming the plugin that holds it (when it is known).
 */
export function decorateScheduler (app: FastifyInstance, name: string, scheduler: Scheduler): void {
  if (app.hasDecorator(kScheduler)) {
    throw new InvalidOptionsError('register', 'fastify-mikro-scheduler is already registered on this instance (or an ancestor); register it once and reach it with schedulerOf(app)')
  }
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new InvalidOptionsError('decorator', `must be a JavaScript identifier such as 'scheduler' or 'jobs', got ${JSON.stringify(name)}`)
  }
  if (app.hasDecorator(name)) {
    throw new InvalidOptionsError('decorator', `app.${name} is already taken by ${holderOf(app, name)}; ` +
      `register fastify-mikro-scheduler under another name, e.g. { decorator: 'jobs' }, and reach it with app.jobs or schedulerOf(app)`)
  }
  app.decorate(name, scheduler)
  app.decorate(kScheduler, scheduler)
}

function holderOf (app: FastifyInstance, name: string): string {
  const registered = ((app as unknown as Record<symbol, unknown>)[kRegisteredPlugins] ?? []) as string[]
  const value = (app as unknown as Record<string, unknown>)[name]
  const kind = value !== null && typeof value === 'object' ? ` (an instance of ${value.constructor?.name ?? 'Object'})` : ''
  const known = KNOWN_HOLDERS[name]
  if (known !== undefined && registered.includes(known)) return `${known}${kind}`
  const list = registered.filter((plugin) => plugin !== 'fastify-mikro-scheduler')
  return `another plugin${kind}; plugins registered before this one: ${list.length === 0 ? 'none named' : list.join(', ')}`
}
