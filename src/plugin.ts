/**
 * The Fastify plugin: `app.register(schedulerPlugin, { orm })` decorates `app.scheduler`, installs
 * the scheduler's tables and starts it at `onReady`, and on close stops claiming, waits for
 * running executions up to `shutdownTimeoutMs` and releases the leader lock.
 */
import type { MikroORM } from '@mikro-orm/core'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { DEFAULT_DECORATOR, decorateScheduler } from './decorator.js'
import { ADVISORY_ON_SQLITE, DEFAULT_LEADER_LOCK_KEY } from './locks/advisory-lock.js'
import { checkSchemaName, leaderLockKeyFor } from './schema/placement.js'
import { SCHEMA_ON_SQLITE } from './stores/sqlite/schema.js'
import { assertEmbeddedDatabaseFree, embeddedLockPath, sqliteDatabaseFile } from './embedded.js'
import { InvalidOptionsError } from './errors.js'
import type { SchedulerOptions } from './options.js'
import { SchedulerJobSubscriber } from './orm/job-subscriber.js'
import { Scheduler } from './scheduler/scheduler.js'
import { assertLocalSqlite, ormDialect } from './sql/from-orm.js'
import type { JobStore } from './stores/job-store.js'
import { MikroOrmJobStore, type InstallMode } from './stores/mikro-orm-job-store.js'
import { registerRoutesOption, type SchedulerRoutesOptions } from './routes/plugin.js'
import type { CodeJobDefinition, JobDefinition, TaskHandler } from './types.js'

export interface SchedulerPluginOptions extends Omit<SchedulerOptions, 'store' | 'orm' | 'log'> {
  /** The host's MikroORM instance (`@mikro-orm/postgresql` or `@mikro-orm/pglite`). Required. */
  orm: MikroORM
  /** Job store; default a `MikroOrmJobStore` on `orm`. */
  store?: JobStore
  /**
   * How the scheduler's tables come to exist (for the default store). `'auto'` (default): created or
   * upgraded at start with idempotent DDL (the app's role may create tables). `'migrations'`: the
   * app's migrations own them (`schedulerMigrations` from `fastify-mikro-scheduler/migration`); the
   * plugin runs no DDL, so a role with only SELECT/INSERT/UPDATE/DELETE can start it, and it refuses
   * to start (`SchemaOutdatedError`, naming the missing migration) when the tables are older than the library.
   */
  install?: InstallMode
  /**
   * PostgreSQL schema of the scheduler's tables; default the MikroORM `schema` option, else none
   * (`search_path`, normally `public`). Every table, the wake-up channel and the default leader lock
   * key are the schema's own, so schedulers in two schemas of one database are independent.
   */
  schema?: string
  /** Tasks to register: `{ 'reports.daily': handler }`. */
  tasks?: Record<string, TaskHandler>
  /** Jobs declared in configuration (tasks by name), upserted at start like `registerJob`. */
  jobs?: Array<JobDefinition & CodeJobDefinition>
  /**
   * Name of the decorator: `app.scheduler` by default. Choose another (`'jobs'`: `app.jobs`) when the
   * name is taken, for example by `@fastify/schedule`; `schedulerOf(app)` reaches the scheduler
   * whatever the name. Registration fails naming the plugin that holds a taken name.
   */
  decorator?: string
  /** Start at `onReady`. Default `true`; with `false`, call `app.scheduler.start()` yourself. */
  autoStart?: boolean
  /** Mounts the admin REST routes (`schedulerRoutes`) under `prefix` (default `'/scheduler'`); off when absent. Needs a guard hook unless `insecure: true`. */
  routes?: SchedulerRoutesOptions
}

const plugin: FastifyPluginAsync<SchedulerPluginOptions> = async (app: FastifyInstance, options: SchedulerPluginOptions) => {
  const { orm, store, install, schema: schemaOption, decorator, tasks, jobs, autoStart, routes, ...schedulerOptions } = checkPluginOptions(options)
  const ormSchema = checkSchemaName(schemaOption ?? orm.config.get('schema'), 'schema')
  const schema = ormSchema === 'public' ? null : ormSchema
  const dataDir = embeddedDataDir(orm)
  if (dataDir !== undefined) assertEmbeddedDatabaseFree(dataDir)
  const scheduler = new Scheduler({
    ...schedulerOptions,
    store: store ?? new MikroOrmJobStore(orm, { ...(install === undefined ? {} : { install }), schema }),
    leaderLockKey: schedulerOptions.leaderLockKey ?? leaderLockKeyFor(DEFAULT_LEADER_LOCK_KEY, store === undefined ? schema : null),
    orm,
    lockFile: schedulerOptions.lockFile ?? (dataDir === undefined ? undefined : embeddedLockPath(dataDir)),
    log: app.log.child({ name: 'scheduler' })
  })
  for (const [name, handler] of Object.entries(tasks ?? {})) scheduler.registerTask(name, handler)
  for (const job of jobs ?? []) scheduler.registerJob(job, tasks?.[job.task ?? job.id] ?? missingTask(job.task ?? job.id))
  decorateScheduler(app, decorator ?? DEFAULT_DECORATOR, scheduler)

  // Jobs written as ORM rows (em.create(SchedulerJob, …)) are validated, scheduled and announced.
  // Their audit rows join the flush's transaction when the tables are on the ORM's database.
  const subscriber = new SchedulerJobSubscriber(scheduler, { schema: store === undefined ? schema : 'store' })
  orm.em.getEventManager().registerSubscriber(subscriber)
  app.addHook('onClose', async () => subscriber.detach())

  if (autoStart !== false) {
    app.addHook('onReady', async () => scheduler.start())
  }
  // Fastify fails app.close() when a preClose hook outlasts pluginTimeout (0: no limit), so the
  // shutdown is fitted into it, with a second to spare.
  const pluginTimeoutMs = app.initialConfig.pluginTimeout ?? 10_000
  app.addHook('preClose', async () => scheduler.shutdown(pluginTimeoutMs > 0 ? { timeoutMs: Math.max(0, pluginTimeoutMs - 1000) } : {}))
  app.addHook('onClose', async () => scheduler.metrics?.close())
  if (routes !== undefined) await registerRoutesOption(app, routes)
}

function checkPluginOptions (options: SchedulerPluginOptions): SchedulerPluginOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionsError('options', 'must be an object with at least { orm }')
  const orm = options.orm as MikroORM | undefined
  if (orm === undefined || orm === null || typeof orm.em?.fork !== 'function') {
    throw new InvalidOptionsError('orm', 'is required: pass the MikroORM instance of the app, e.g. app.register(schedulerPlugin, { orm })')
  }
  if (options.store === undefined) { ormDialect(orm); assertLocalSqlite(orm) }
  if (options.lock === 'advisory' && options.store === undefined && ormDialect(orm) === 'sqlite') throw new InvalidOptionsError('lock', ADVISORY_ON_SQLITE)
  if (options.schema !== undefined && options.store === undefined && ormDialect(orm) === 'sqlite') throw new InvalidOptionsError('schema', SCHEMA_ON_SQLITE)
  if (options.tasks !== undefined && (options.tasks === null || typeof options.tasks !== 'object')) {
    throw new InvalidOptionsError('tasks', "must be an object mapping task names to handlers: { 'reports.daily': handler }")
  }
  if (options.jobs !== undefined && !Array.isArray(options.jobs)) throw new InvalidOptionsError('jobs', 'must be an array of job definitions')
  if (options.autoStart !== undefined && typeof options.autoStart !== 'boolean') throw new InvalidOptionsError('autoStart', 'must be a boolean')
  for (const key of ['install', 'schema'] as const) {
    if (options[key] !== undefined && options.store !== undefined) {
      throw new InvalidOptionsError(key, `applies to the default store only; pass it to your store instead: new MikroOrmJobStore(orm, { ${key} })`)
    }
  }
  return options
}

/** `jobs` entries name tasks; a missing one is an error at registration, not at the first fire. */
function missingTask (task: string): never {
  throw new InvalidOptionsError('jobs', `refers to task '${task}', which is not in the tasks option; add it: tasks: { '${task}': handler }`)
}

/**
 * PGlite's data directory or the SQLite database file, whose lock file (`<path>.scheduler.lock`)
 * makes `lock: 'auto'` a file lock and keeps a second process out. Undefined for PostgreSQL and
 * in-memory (or remote) databases.
 */
function embeddedDataDir (orm: MikroORM): string | undefined {
  const dialect = ormDialect(orm)
  if (dialect === 'sqlite') return sqliteDatabaseFile(orm.config.get('dbName'))
  if (dialect !== 'pglite') return undefined
  const driverOptions = (orm.config.get('driverOptions') ?? {}) as { dataDir?: string }
  const dataDir = driverOptions.dataDir ?? orm.config.get('dbName')
  if (dataDir === undefined || dataDir === '' || dataDir.startsWith('memory:')) return undefined
  return dataDir
}

/** The plugin, wrapped with `fastify-plugin` so `app.scheduler` is visible to the whole app. */
export const schedulerPlugin = fp(plugin, { name: 'fastify-mikro-scheduler', fastify: '5.x' })
export default schedulerPlugin
