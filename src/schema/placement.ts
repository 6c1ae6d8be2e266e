/**
 * Where the scheduler's tables live: a PostgreSQL schema (the plugin's `schema` option, else the
 * MikroORM `schema` option), or, without one, wherever the connection's `search_path` finds them
 * (`public` by default). A scheduler in a schema qualifies every table it names, and uses its own
 * wake-up channel and leader lock key, so two schedulers in two schemas of one database never see
 * each other's jobs, notifications or leadership.
 *
 * The statements are written with bare table names (`scheduler_job`, …); `placedSqlClient` wraps
 * the SQL port so each statement is qualified once (and cached) as it is sent: one rule, applied
 * to every statement of the stores, locks and schema installer alike.
 */
import { InvalidOptionsError } from '../errors.js'
import type { SqlClient, SqlExecutor, SqlSession } from '../sql/sql-client.js'
import { SCHEDULER_TABLES } from './tables.js'

/** The wake-up NOTIFY channel of the scheduler whose tables are found through `search_path`. */
export const DEFAULT_WAKEUP_CHANNEL = 'scheduler_wakeup'

/** A bare table name of ours (`SCHEDULER_TABLES`, longest first), not part of a longer identifier nor already qualified. */
const TABLE_NAME = new RegExp(`(?<![\\w."$])(${[...SCHEDULER_TABLES].sort((a, b) => b.length - a.length).join('|')})(?![\\w"$])`, 'g')

/** `"schema"`, quoted for SQL. */
export function quoteIdentifier (name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * Checks a schema name (`null`/`undefined`: none).
 * @throws InvalidOptionsError for an empty or over-long name, or one with control characters.
 */
export function checkSchemaName (schema: unknown, option: string): string | null {
  if (schema === undefined || schema === null) return null
  // eslint-disable-next-line no-control-regex
  if (typeof schema !== 'string' || schema === '' || schema.length > 63 || /[\u0000-\u001f]/.test(schema)) {
    throw new InvalidOptionsError(option, `must be a PostgreSQL schema name (1 to 63 characters), got ${JSON.stringify(schema)}`)
  }
  return schema
}

/** `statement` with our table names qualified by `schema` (unchanged for `null`). */
export function qualifyTables (statement: string, schema: string | null): string {
  return schema === null ? statement : statement.replace(TABLE_NAME, (name) => `${quoteIdentifier(schema)}.${name}`)
}

/** The wake-up channel of the scheduler in `schema`. */
export function wakeupChannel (schema: string | null): string {
  return schema === null ? DEFAULT_WAKEUP_CHANNEL : `${DEFAULT_WAKEUP_CHANNEL}:${schema}`
}

/**
 * The default leader lock key of the scheduler in `schema`: `base` without a schema, else `base`
 * plus a multiple of 1000 derived from the name (FNV-1a), far from the other keys the library uses.
 */
export function leaderLockKeyFor (base: number, schema: string | null): number {
  if (schema === null) return base
  let hash = 0x811c9dc5
  for (const character of schema) hash = Math.imul(hash ^ character.codePointAt(0)!, 0x01000193) >>> 0
  return base + 1000 * (1 + (hash % 1_000_000))
}

/**
 * The SQL port with every statement's table names qualified by `schema` and the default wake-up
 * channel (in `LISTEN` and in `pg_notify` values) replaced by the schema's own. `null`: `sql` as is.
 */
export function placedSqlClient (sql: SqlClient, schema: string | null): SqlClient {
  if (schema === null) return sql
  const cache = new Map<string, string>()
  const channel = wakeupChannel(schema)
  const text = (statement: string): string => {
    let placed = cache.get(statement)
    if (placed === undefined) {
      placed = qualifyTables(statement, schema)
      if (cache.size < 1000) cache.set(statement, placed)
    }
    return placed
  }
  const values = (list: readonly unknown[] | undefined): readonly unknown[] | undefined =>
    list?.map((value) => value === DEFAULT_WAKEUP_CHANNEL ? channel : value)
  const executor = <E extends SqlExecutor>(inner: E): SqlExecutor => ({
    query: async (statement, list) => inner.query(text(statement), values(list))
  })
  return {
    dialect: sql.dialect,
    query: async (statement, list, options) => sql.query(text(statement), values(list), options),
    transaction: async (fn, options) => sql.transaction(async (tx) => fn(executor(tx)), options),
    openSession: async (options): Promise<SqlSession> => {
      const session = await sql.openSession(options)
      return {
        ...executor(session),
        listen: async (name, onNotify) => session.listen(name === DEFAULT_WAKEUP_CHANNEL ? channel : name, onNotify),
        onEnd: (callback) => session.onEnd(callback),
        close: async () => session.close()
      }
    }
  }
}
