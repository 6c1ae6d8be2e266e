/**
 * `SqlClient` over the connection of MikroORM's libSQL driver (`@mikro-orm/libsql`): one SQLite
 * connection in this process, shared with the host's ORM. Every statement and transaction takes
 * the driver's own connection mutex (through its Kysely instance, `connection().execute`), so the
 * scheduler's transactions and the host's queries never interleave on the one connection; inside,
 * statements run on the native `libsql` `Database` (synchronous, better-sqlite3's API).
 *
 * - A read (a statement starting with `SELECT`) outside a transaction runs at once, without the
 *   mutex: on one synchronous connection it cannot interleave with another statement, and it must
 *   not wait for a transaction of the host's that is waiting for it (MikroORM runs the scheduler's
 *   flush hooks, which read the clock, inside the flush's transaction: waiting would deadlock). It
 *   may see a transaction in progress on the connection; writes therefore always take the mutex.
 *   The host must not call the scheduler's write API from inside its own `em.transactional` on
 *   SQLite: the write waits for the connection that transaction holds (PostgreSQL has a pool). A
 *   write that has waited `connectionWaitMs` (default {@link SQLITE_CONNECTION_WAIT_MS}) for the
 *   connection gives up with a {@link SqliteConnectionBusyError} saying so, instead of hanging
 *   (as a pool's acquisition timeout would); it never runs afterwards.
 * - Transactions are `BEGIN IMMEDIATE` (SQLite docs, "BEGIN TRANSACTION": the write lock is taken
 *   at once, so a transaction never fails half-way with SQLITE_BUSY on its first write) and are
 *   serialised by that mutex: one at a time in the process.
 * - The file runs in WAL mode (`PRAGMA journal_mode=WAL`, SQLite docs "Write-Ahead Logging":
 *   readers in other connections, e.g. the CLI, do not block the writer) with `busy_timeout`
 *   `SQLITE_BUSY_TIMEOUT_MS` for locks held by other connections.
 * - Placeholders are SQLite's numbered `?1, ?2, …` (the SQLite modules are written with them).
 *   Values are bound as SQLite takes them: a `Date` as integer milliseconds since the Unix epoch
 *   (MikroORM's own convention for dates on SQLite, `SqlitePlatform.processDateProperty`, so rows
 *   the host's ORM writes compare correctly), a boolean as 1/0 (libsql aborts the process on a JS
 *   boolean), an array or plain object as JSON text (read with `json_each`), `undefined` as NULL.
 * - Wake-ups: there is no LISTEN/NOTIFY; the statement {@link SQLITE_NOTIFY} is answered by this
 *   adapter, which delivers the payload to the listeners of its sessions in this process (one
 *   process owns the file), at commit when sent inside a transaction, never after a rollback.
 * - Errors: "no such table" gets PostgreSQL's code `42P01`, the port's code for a missing table
 *   (`isUndefinedTable`), so the store's missing-table recovery works here too.
 * - Timeouts (`timeoutMs`) do not apply: the database is a local file, not a connection that can
 *   hang half-open.
 */
import type { Kysely } from 'kysely'
import type { SqlClient, SqlExecutor, SqlSession } from './sql-client.js'

/** Milliseconds a statement waits for a lock held by another connection before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000

/** Milliseconds a write waits for the connection (held by another transaction) before it fails. */
export const SQLITE_CONNECTION_WAIT_MS = 30_000

/** A write waited too long for the one SQLite connection (see the module doc); nothing of it ran. */
export class SqliteConnectionBusyError extends Error {
  constructor (ms: number) {
    super(`the SQLite connection was held by another transaction for ${ms} ms, so the scheduler's write gave up without running. ` +
      'On SQLite the scheduler and the app share one connection: do not call the scheduler\'s write API (addJob, updateJob, runJob, …) inside em.transactional(…); call it after the transaction')
    this.name = 'SqliteConnectionBusyError'
  }
}

/** The wake-up statement ($1 channel, $2 payload), answered by the adapter (see the module doc). */
export const SQLITE_NOTIFY = 'SELECT scheduler_notify(?1, ?2)'

/** The part of libsql's `Database` this adapter uses. */
export interface LibsqlDatabaseLike {
  prepare(sql: string): { reader: boolean, all(params: unknown[]): unknown[], run(params: unknown[]): unknown }
  exec(sql: string): unknown
  readonly inTransaction: boolean
  readonly memory?: boolean
}

/** What holds the connection: the driver's Kysely instance (its `connection()` takes the mutex). */
export type ConnectionHolder = Pick<Kysely<any>, 'connection'>

type Listener = (payload: string) => void

/** A read: runs without taking the connection mutex (see the module doc). */
const READ = /^\s*SELECT\b/i

/** `connectionWaitMs`: milliseconds a write waits for the connection, default {@link SQLITE_CONNECTION_WAIT_MS}. */
export async function createSqliteClient (database: LibsqlDatabaseLike, holder: ConnectionHolder, options: { connectionWaitMs?: number } = {}): Promise<SqlClient> {
  const waitMs = options.connectionWaitMs ?? SQLITE_CONNECTION_WAIT_MS
  const listeners = new Map<string, Set<Listener>>()
  const deliver = (channel: string, payload: string): void => {
    for (const listener of listeners.get(channel) ?? []) {
      try { listener(payload) } catch {}
    }
  }
  /** Runs `fn` holding the driver's connection (its mutex), or fails without running it after `waitMs`. */
  const holding = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    let gaveUp = false
    let timer: NodeJS.Timeout | undefined
    const pending = holder.connection().execute(async () => {
      clearTimeout(timer)
      if (gaveUp) return undefined as T
      return fn()
    })
    const waited = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { gaveUp = true; reject(new SqliteConnectionBusyError(waitMs)) }, waitMs)
    })
    pending.catch(() => {})
    return Promise.race([pending, waited])
  }
  const run = (text: string, values: readonly unknown[] | undefined, pending: Array<[string, string]> | null): any[] => {
    const params = (values ?? []).map(toSqliteValue)
    if (text === SQLITE_NOTIFY) {
      const notice: [string, string] = [String(params[0]), String(params[1] ?? '')]
      if (pending === null) queueMicrotask(() => deliver(...notice))
      else pending.push(notice)
      return []
    }
    try {
      const statement = database.prepare(text)
      if (statement.reader) return statement.all(params) as any[]
      statement.run(params)
      return []
    } catch (error) {
      throw withPortCode(error)
    }
  }
  const client: SqlClient = {
    dialect: 'sqlite',
    async query (text, values) {
      return READ.test(text) && text !== SQLITE_NOTIFY ? run(text, values, null) : holding(() => run(text, values, null))
    },
    async transaction (fn) {
      return holding(async () => {
        const pending: Array<[string, string]> = []
        const tx: SqlExecutor = { query: async (text, values) => run(text, values, pending) }
        database.exec('BEGIN IMMEDIATE')
        let result
        try {
          result = await fn(tx)
          database.exec('COMMIT')
        } catch (error) {
          if (database.inTransaction) database.exec('ROLLBACK')
          throw withPortCode(error)
        }
        for (const notice of pending) queueMicrotask(() => deliver(...notice))
        return result
      })
    },
    async openSession () {
      return openSqliteSession(client, listeners)
    }
  }
  // WAL is a property of the file (kept across connections); an in-memory database stays 'memory'.
  await client.query('PRAGMA journal_mode=WAL')
  await client.query(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  return client
}

/** A "session" on SQLite is the one connection again, plus this process's wake-up listeners. */
function openSqliteSession (client: SqlClient, listeners: Map<string, Set<Listener>>): SqlSession {
  const mine: Array<[string, Listener]> = []
  const endListeners: Array<(error?: Error) => void> = []
  let closed = false
  const session: SqlSession & Pick<SqlClient, 'transaction'> = {
    query: async (text, values) => client.query(text, values),
    transaction: async (fn, options) => client.transaction(fn, options),
    async listen (channel, onNotify) {
      const set = listeners.get(channel) ?? new Set()
      listeners.set(channel, set)
      set.add(onNotify)
      mine.push([channel, onNotify])
    },
    onEnd (callback) {
      if (closed) callback()
      else endListeners.push(callback)
    },
    async close () {
      if (closed) return
      closed = true
      for (const [channel, listener] of mine) listeners.get(channel)?.delete(listener)
      for (const listener of endListeners) listener()
    }
  }
  return session
}

/** A JS value as SQLite binds it (see the module doc). */
export function toSqliteValue (value: unknown): unknown {
  if (value === undefined || value === null) return null
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value) || (typeof value === 'object' && !Buffer.isBuffer(value))) return JSON.stringify(value)
  return value
}

/** The error with the port's code for a missing table (`42P01`), else as thrown. */
function withPortCode (error: unknown): unknown {
  if (error instanceof Error && /no such table/i.test(error.message)) Object.assign(error, { code: '42P01' })
  return error
}
