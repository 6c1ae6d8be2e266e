/**
 * The command line's database connection: a MikroORM instance on the URL (`parseDatabaseUrl`:
 * PostgreSQL, MySQL/MariaDB or a SQLite file, through the driver the host app already has, see
 * `drivers.ts`), the `MikroOrmJobStore` on it and a `Scheduler` that is never started (its API
 * pauses, resumes, removes and queues runs, and wakes the running schedulers as the app itself
 * would: `NOTIFY` on PostgreSQL, the change counter on MySQL; on SQLite the owning app sees the
 * change at its next poll, see `sqlite-owner.ts`).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { hostname } from 'node:os'
import type { MikroORM } from '@mikro-orm/core'
import type { DatabaseUrl } from '../database-url.js'
import { Scheduler } from '../scheduler/scheduler.js'
import { sqlClientFromOrm } from '../sql/from-orm.js'
import type { SqlClient } from '../sql/sql-client.js'
import { placedSqlClient } from '../schema/placement.js'
import { MikroOrmJobStore } from '../stores/mikro-orm-job-store.js'
import { databaseFromOption, schemaFromOption } from './command.js'
import { ormOpener, schemaRefusal } from './drivers.js'
import { schedulerTablesPresent } from './schema-dialects.js'
import { ownerSeesAtNextPoll, sqliteOwner } from './sqlite-owner.js'
import { UsageError } from './usage.js'

export interface Connection {
  /** The database the URL names (its dialect, and the URL or SQLite file). */
  target: DatabaseUrl
  /** The SQL port, its statements placed in `schema` when one was given. */
  sql: SqlClient
  /** The PostgreSQL schema of the tables (`--schema`), null for the connection's `search_path` (always null on MySQL and SQLite). */
  schema: string | null
  /** The (never started) scheduler; rejects when the scheduler's tables are missing. */
  scheduler: () => Promise<Scheduler>
  /** The URL with its password hidden, for messages. */
  shownUrl: string
  /** Where the tables are, for messages: the URL, with the schema when one was given. */
  where: string
  /**
   * What a write's output adds (null: nothing): on a SQLite file that a running app owns, that the
   * app sees the change at its next poll. Read when called, after the write.
   */
  writeNote: () => string | null
  close(): Promise<void>
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** A SQLite file that does not exist yet may be created (`schema install`); default false: refused. */
  createFile?: boolean
}

/**
 * Connects to `url`, for the tables in `schemaOption` (the plugin's `schema` option, PostgreSQL
 * only; absent: found through `search_path`).
 * @throws UsageError when the URL is absent or of no accepted form, the schema name is not one,
 *   `--schema` is given for MySQL or SQLite, or a SQLite file does not exist (unless `createFile`).
 * @throws Error naming the package to install when the URL's MikroORM driver is missing, and
 *   naming the (password-free) URL when the database cannot be reached.
 */
export async function connect (url: string | undefined, schemaOption: string | undefined = undefined, options: ConnectOptions = {}): Promise<Connection> {
  const schema = schemaFromOption(schemaOption)
  const target = databaseFromOption(url)
  const refusal = schemaRefusal(target.dialect, schema)
  if (refusal !== null) throw new UsageError(refusal)
  if (target.dialect === 'sqlite' && options.createFile !== true && !existsSync(target.file)) {
    throw new UsageError(`no SQLite database at ${resolve(target.file)} (from ${target.shownUrl}): check the path (a relative one is from the current directory), or create the tables there with 'fastify-mikro-scheduler schema install'`)
  }
  const { shownUrl } = target
  const orm = await openAndProbe(await ormOpener(target), shownUrl)
  const raw = await sqlClientFromOrm(orm)
  const sql = placedSqlClient(raw, schema)
  const where = schema === null ? shownUrl : `schema "${schema}" of ${shownUrl}`
  let scheduler: Scheduler | null = null
  return {
    target,
    sql,
    schema,
    shownUrl,
    where,
    scheduler: async () => {
      if (scheduler !== null) return scheduler
      if (!await schedulerTablesPresent(target.dialect, sql)) {
        throw new Error(`the scheduler's tables are not in ${where}: check the URL${schemaRefusal(target.dialect, '') !== null ? '' : schema === null ? " (and --schema, if the app's plugin has a schema option)" : ' and --schema'}, or create them with 'fastify-mikro-scheduler schema install'`)
      }
      scheduler = new Scheduler({ store: new MikroOrmJobStore(raw, { schema }), orm, nodeId: `cli@${hostname()}:${process.pid}` })
      return scheduler
    },
    writeNote: () => {
      if (target.dialect !== 'sqlite') return null
      const owner = sqliteOwner(target.file)
      return owner === null ? null : ownerSeesAtNextPoll(target.file, owner)
    },
    close: async () => { await orm.close(true) }
  }
}

/** Opens the ORM and runs `SELECT 1`. @throws Error naming `shownUrl` when either fails (the ORM closed). */
async function openAndProbe (open: () => Promise<MikroORM>, shownUrl: string): Promise<MikroORM> {
  let orm: MikroORM | undefined
  try {
    orm = await open()
    await orm.em.getConnection().execute('SELECT 1')
    return orm
  } catch (error) {
    await orm?.close(true).catch(() => {})
    throw new Error(`cannot connect to ${shownUrl}: ${(error as Error).message}`)
  }
}
