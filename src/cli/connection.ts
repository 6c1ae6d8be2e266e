/**
 * The command line's database connection: a MikroORM instance on the PostgreSQL URL (the
 * `@mikro-orm/postgresql` driver the host already has), the `MikroOrmJobStore` on it and a
 * `Scheduler` that is never started (its API pauses, resumes, removes and queues runs, and
 * NOTIFYs the running schedulers as the app itself would).
 */
import { hostname } from 'node:os'
import type { MikroORM } from '@mikro-orm/core'
import { SchedulerJob } from '../entities/scheduler-job.js'
import { SchedulerJobExecution } from '../entities/scheduler-job-execution.js'
import { Scheduler } from '../scheduler/scheduler.js'
import { sqlClientFromOrm } from '../sql/from-orm.js'
import type { SqlClient } from '../sql/sql-client.js'
import { placedSqlClient } from '../schema/placement.js'
import { MikroOrmJobStore } from '../stores/mikro-orm-job-store.js'
import { schemaFromOption } from './command.js'
import { UsageError } from './usage.js'

export interface Connection {
  /** The SQL port, its statements placed in `schema` when one was given. */
  sql: SqlClient
  /** The PostgreSQL schema of the tables (`--schema`), null for the connection's `search_path`. */
  schema: string | null
  /** The (never started) scheduler; rejects when the scheduler's tables are missing. */
  scheduler: () => Promise<Scheduler>
  /** The URL with its password hidden, for messages. */
  shownUrl: string
  close(): Promise<void>
}

/**
 * Connects to `url`, for the tables in `schema` (the plugin's `schema` option; null: found through
 * `search_path`). @throws UsageError when the URL is absent or not a PostgreSQL URL, or the schema
 * name is not one; Error naming the (password-free) URL when the database cannot be reached.
 */
export async function connect (url: string | undefined, schemaOption: string | undefined = undefined): Promise<Connection> {
  const schema = schemaFromOption(schemaOption)
  if (url === undefined || url === '') {
    throw new UsageError('no database: pass --database-url postgres://user@host:5432/db or set DATABASE_URL')
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('--database-url (or DATABASE_URL) is not a URL; expected postgres://user@host:5432/db')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`--database-url must be a postgres:// or postgresql:// URL, not ${parsed.protocol}//`)
  }
  if (parsed.password !== '') parsed.password = '***'
  const shownUrl = parsed.toString()
  const { MikroORM } = await loadDriver()
  let orm: MikroORM
  try {
    orm = await MikroORM.init({
      clientUrl: url,
      entities: [SchedulerJob, SchedulerJobExecution],
      pool: { min: 0, max: 2 },
      driverOptions: { connectionTimeoutMillis: 10_000 },
      debug: false
    })
    await orm.em.getConnection().execute('SELECT 1')
  } catch (error) {
    throw new Error(`cannot connect to ${shownUrl}: ${(error as Error).message}`)
  }
  const raw = await sqlClientFromOrm(orm)
  const sql = placedSqlClient(raw, schema)
  const where = schema === null ? shownUrl : `schema "${schema}" of ${shownUrl}`
  let scheduler: Scheduler | null = null
  return {
    sql,
    schema,
    shownUrl,
    scheduler: async () => {
      if (scheduler !== null) return scheduler
      const [row] = await sql.query<{ present: boolean }>("SELECT to_regclass('scheduler_job') IS NOT NULL AND to_regclass('scheduler_job_execution') IS NOT NULL AS present")
      if (row?.present !== true) {
        throw new Error(`the scheduler's tables are not in ${where}: check the URL${schema === null ? " (and --schema, if the app's plugin has a schema option)" : ' and --schema'}, or create them with 'fastify-mikro-scheduler schema install'`)
      }
      scheduler = new Scheduler({ store: new MikroOrmJobStore(raw, { schema }), orm, nodeId: `cli@${hostname()}:${process.pid}` })
      return scheduler
    },
    close: async () => { await orm.close(true) }
  }
}

async function loadDriver (): Promise<typeof import('@mikro-orm/postgresql')> {
  try {
    return await import('@mikro-orm/postgresql')
  } catch (error) {
    throw new Error(`the command line needs @mikro-orm/postgresql (the app's MikroORM driver): npm install @mikro-orm/postgresql (${(error as Error).message})`)
  }
}
