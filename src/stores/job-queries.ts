/**
 * The `scheduler_job` statements that differ between databases only in syntax, written once with
 * Kysely and compiled for the store's dialect (`sql-dialect.ts`): the filtered, paged job list, its
 * count, and a job's update from a patch (a `SET` of the patch's columns). Every dialect's
 * `jobs.ts` exports them (`jobQueries(its dialect)`); the inserts, the upserts and the reads of the
 * scheduling loop stay hand-written there.
 */
import { sql, type Updateable } from 'kysely'
import { JobNotFoundError, VersionMismatchError } from '../errors.js'
import { run, type SchedulerDatabase } from '../sql/query-builder.js'
import type { SqlExecutor } from '../sql/sql-client.js'
import type { JobFilter, JobPatch, JobRecord } from './job-store.js'
import { withFireTime } from './rows.js'
import { escapeLike, JOB_COLUMN_NAMES, page, type SqlDialect } from './sql-dialect.js'

type JobRow = SchedulerDatabase['scheduler_job']

/** The column of each field a patch may set. */
const PATCH_COLUMNS: Record<keyof JobPatch, keyof JobRow> = {
  name: 'name',
  task: 'task',
  args: 'args',
  trigger: 'trigger',
  nextRunTime: 'next_run_time',
  nextFireTime: 'next_fire_time',
  paused: 'paused',
  misfireGraceTime: 'misfire_grace_time',
  coalesce: 'coalesce',
  maxInstances: 'max_instances',
  timeoutMs: 'timeout_ms',
  captureLogs: 'capture_logs',
  retry: 'retry',
  recover: 'recover',
  lastError: 'last_error'
}

/** The columns a patch sets, with their values as bound: json columns take JSON text, and a null retry policy is SQL NULL, not the JSON value null. */
export function patchColumns (changes: JobPatch): Updateable<JobRow> {
  const patch = withFireTime(changes)
  const columns: Record<string, unknown> = {}
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof JobPatch, keyof JobRow]>) {
    if (!(key in patch)) continue
    const value = patch[key]
    columns[column] = key === 'args' || key === 'trigger' || (key === 'retry' && value !== null) ? JSON.stringify(value) : value
  }
  return columns as Updateable<JobRow>
}

/** The job list, its count and the update from a patch, for `dialect`. */
export function jobQueries (dialect: SqlDialect): {
  getJobs: (db: SqlExecutor, filter?: JobFilter) => Promise<JobRecord[]>
  countJobs: (db: SqlExecutor, filter?: JobFilter) => Promise<number>
  updateJob: (db: SqlExecutor, id: string, changes: JobPatch, options?: { expectedVersion?: number }) => Promise<JobRecord>
} {
  const { builder } = dialect
  /** The jobs a filter selects: only the conditions it gives. */
  const filtered = (filter: JobFilter) => {
    let query = builder.selectFrom('scheduler_job')
    if (filter.task != null) query = query.where('task', '=', filter.task)
    if (filter.paused != null) query = query.where('paused', '=', filter.paused)
    if (filter.flagged != null) query = query.where('last_error', filter.flagged ? 'is not' : 'is', null)
    if (filter.search != null) {
      const pattern = `%${escapeLike(filter.search)}%`
      query = query.where((eb) => eb.or([dialect.containsText('id', pattern), dialect.containsText('name', pattern)]))
    }
    return query
  }
  return {
    getJobs: async (db, filter = {}) =>
      (await run(db, page(filtered(filter).select(JOB_COLUMN_NAMES).orderBy('id'), filter))).map(dialect.toJob),
    countJobs: async (db, filter = {}) => {
      const [row] = await run<{ count: unknown }>(db, filtered(filter).select((eb) => eb.fn.countAll().as('count')))
      return Number(row?.count ?? 0)
    },
    /**
     * Sets the patch's columns (a patch moving `nextRunTime` alone moves `nextFireTime` too), the
     * update time and a new version; with `expectedVersion`, only if the version is still that one.
     * @throws VersionMismatchError when the job exists at another version; JobNotFoundError when it does not exist.
     */
    updateJob: async (db, id, changes, options = {}) => {
      let update = builder.updateTable('scheduler_job')
        .set({ ...patchColumns(changes), updated_at: dialect.clock, version: sql<number>`version + 1` })
        .where('id', '=', id)
      if (options.expectedVersion !== undefined) update = update.where('version', '=', options.expectedVersion)
      const row = await dialect.updatedJob(db, update, id)
      if (row !== undefined) return dialect.toJob(row)
      if (options.expectedVersion !== undefined && (await run(db, builder.selectFrom('scheduler_job').select('id').where('id', '=', id))).length > 0) {
        throw new VersionMismatchError(id, options.expectedVersion)
      }
      throw new JobNotFoundError(id)
    }
  }
}
