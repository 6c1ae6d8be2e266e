/**
 * `SqlClient` over a `mysql2` pool (the pool of MikroORM's MySQL and MariaDB drivers,
 * `@mikro-orm/mysql` / `@mikro-orm/mariadb`, from `orm.em.getConnection().getNativeClient()`).
 * Statements use `?` placeholders (mysql2 interpolates them on the client: an array value expands
 * to a list, `IN (?)`, and an array of arrays to row tuples, `VALUES ?`).
 *
 * Values and rows, whatever the host configured on the pool (MikroORM sets `dateStrings`):
 * - a `Date` value is sent as `'YYYY-MM-DD HH:MM:SS.mmm'` in UTC, and a `DATETIME`/`TIMESTAMP`
 *   column is read back as a `Date` taking its text as UTC: the scheduler's `datetime(3)` columns
 *   hold UTC, written from JS Dates or `UTC_TIMESTAMP(3)`, so a Date round-trips to the
 *   millisecond and the session's `time_zone` never matters (it is left as the host set it);
 * - `tinyint(1)` is read as a boolean, `DECIMAL` as a number, `JSON` (MySQL's type, MariaDB's
 *   extended metadata) parsed.
 *
 * Transactions run on one pooled connection at `READ COMMITTED` (each statement after a locking
 * read sees rows committed meanwhile, as the PostgreSQL claim relies on; and InnoDB takes no gap
 * locks there). Deadlines are client-side only: a connection that has not answered `timeoutMs`
 * plus one second after the statement or transaction began is destroyed (mysql2 removes it from
 * the pool; the server rolls back its transaction when it sees the socket close). No server-side
 * statement limit is set: MySQL's `max_execution_time` (milliseconds) limits only `SELECT`, and
 * MariaDB's `max_statement_time` (seconds) is a different variable; both are session variables that
 * would stay on the host's pooled connection (MySQL 8.0 reference, "Server System Variables";
 * MariaDB KB, "Aborting Statements that Exceed a Certain Time to Execute").
 */
import { ConnectionTimeoutError } from './pg-client.js'
import type { SessionOptions, SqlClient, SqlExecutor, SqlSession, TransactionOptions } from './sql-client.js'

/** The part of a mysql2 (callback) connection this adapter uses. */
export interface MysqlConnectionLike {
  query(options: { sql: string, values?: unknown[], typeCast?: unknown }, callback: (error: Error | null, rows: unknown) => void): unknown
  release?(): void
  destroy(): void
  end?(callback?: (error?: Error) => void): void
  on?(event: string, listener: (...args: any[]) => void): unknown
  stream?: { setKeepAlive?(enable: boolean, delayMs: number): unknown }
}

/** The part of a mysql2 (callback) `Pool` this adapter uses (structural: no direct dependency on mysql2). */
export interface MysqlPoolLike {
  getConnection(callback: (error: Error | null, connection: MysqlConnectionLike) => void): void
  query(options: { sql: string, values?: unknown[], typeCast?: unknown }, callback: (error: Error | null, rows: unknown) => void): unknown
  /** mysql2's pool settings; `connectionConfig` builds the dedicated sessions. */
  config: { connectionConfig: Record<string, unknown> }
}

/**
 * How a MySQL session's `listen` learns of changes without LISTEN/NOTIFY: it runs `poll` on the
 * session every `intervalMs`, keeping `state` between polls, and hands each returned payload to the
 * listener (the store's change counter, `stores/mysql/change-counter.ts`).
 */
export interface ChangeFeed {
  /** Milliseconds between two polls. */
  readonly intervalMs: number
  /** Reads the feed on `db`; `state` is the previous poll's (undefined at first, when nothing is reported). */
  poll(db: SqlExecutor, state: unknown): Promise<{ state: unknown, payloads: string[] }>
}

/** Slack after a deadline before the client gives the connection up (as pg-client.ts). */
const CLIENT_GRACE_MS = 1000
/** Keepalive delay for borrowed pool connections (milliseconds of idleness before probes start). */
const POOLED_KEEPALIVE_DELAY_MS = 10_000

const BEGIN = ['SET TRANSACTION ISOLATION LEVEL READ COMMITTED', 'START TRANSACTION']

/** `YYYY-MM-DD HH:MM:SS.mmm` of `date` in UTC: a `datetime(3)` literal. */
export function toMysqlDatetime (date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '')
}

/** `values` with every Date (also inside arrays) as a UTC `datetime(3)` literal. */
function prepared (values: readonly unknown[] | undefined): unknown[] | undefined {
  if (values === undefined) return undefined
  const convert = (value: unknown): unknown =>
    value instanceof Date ? toMysqlDatetime(value) : Array.isArray(value) ? value.map(convert) : value
  return values.map(convert)
}

interface Field { type: string, length: number, extendedFormat?: string, string(encoding?: string): string | null }

/** mysql2 `typeCast`: UTC datetimes as Dates, `tinyint(1)` as booleans, decimals as numbers, JSON parsed. */
function typeCast (field: Field, next: () => unknown): unknown {
  switch (field.type) {
    case 'DATETIME':
    case 'TIMESTAMP': {
      const text = field.string('ascii')
      return text === null ? null : new Date(`${text.replace(' ', 'T')}Z`)
    }
    case 'TINY':
      if (field.length === 1) {
        const text = field.string('ascii')
        return text === null ? null : text !== '0'
      }
      return next()
    case 'NEWDECIMAL':
    case 'DECIMAL': {
      const text = field.string('ascii')
      return text === null ? null : Number(text)
    }
    case 'JSON': {
      const text = field.string('utf8')
      return text === null ? null : JSON.parse(text)
    }
    default: {
      const value = next()
      return field.extendedFormat === 'json' && typeof value === 'string' ? JSON.parse(value) : value
    }
  }
}

/** Runs one statement on `target` (pool or connection); rows for a SELECT, the OK packet otherwise (as a one-element array). */
async function run<Row> (target: Pick<MysqlPoolLike, 'query'>, text: string, values?: readonly unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    target.query({ sql: text, values: prepared(values), typeCast }, (error, rows) => {
      if (error !== null) reject(error)
      else resolve((Array.isArray(rows) ? rows : [rows]) as Row[])
    })
  })
}

async function borrow (pool: MysqlPoolLike): Promise<MysqlConnectionLike> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => { if (error !== null) reject(error); else resolve(connection) })
  })
}

/** `changeFeed`: what a dedicated session's `listen` polls (without one, `listen` rejects). */
export function createMysqlClient (pool: MysqlPoolLike, options: { changeFeed?: ChangeFeed } = {}): SqlClient {
  return {
    dialect: 'mysql',
    async query (text, values, options = {}) {
      if (options.timeoutMs === undefined) return run(pool, text, values)
      const deadlineMs = options.timeoutMs + CLIENT_GRACE_MS
      const connection = await withDeadline(borrow(pool), deadlineMs, 'a pooled connection', (late) => late.release?.())
      connection.stream?.setKeepAlive?.(true, POOLED_KEEPALIVE_DELAY_MS)
      try {
        const rows = await answeredWithin(connection, run(connection, text, values), deadlineMs, 'a statement')
        connection.release?.()
        return rows as any[]
      } catch (error) {
        // A connection that timed out was destroyed already.
        if (!(error instanceof ConnectionTimeoutError)) connection.release?.()
        throw error
      }
    },
    async transaction (fn, options: TransactionOptions = {}) {
      if (options.timeoutMs === undefined) return runTransaction(await borrow(pool), fn)
      const deadlineMs = options.timeoutMs + CLIENT_GRACE_MS
      const connection = await withDeadline(borrow(pool), deadlineMs, 'a pooled connection', (late) => late.release?.())
      return answeredWithin(connection, runTransaction(connection, fn), deadlineMs, 'a transaction')
    },
    async openSession (sessionOptions) {
      return openMysqlSession(pool, sessionOptions ?? {}, options.changeFeed ?? null)
    }
  }
}

async function runTransaction<T> (connection: MysqlConnectionLike, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  connection.stream?.setKeepAlive?.(true, POOLED_KEEPALIVE_DELAY_MS)
  const tx: SqlExecutor = { query: async (text, values) => run(connection, text, values) }
  try {
    for (const statement of BEGIN) await run(connection, statement)
    const result = await fn(tx)
    await run(connection, 'COMMIT')
    connection.release?.()
    return result
  } catch (error) {
    await run(connection, 'ROLLBACK').then(() => connection.release?.(), () => connection.destroy())
    throw error
  }
}

/** Resolves with `pending` if it settles within `ms`; otherwise rejects, handing a late value to `discard`. */
async function withDeadline<T> (pending: Promise<T>, ms: number, what: string, discard: (late: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let late = false
  pending.then((value) => { if (late) discard(value) }, () => {})
  try {
    return await Promise.race([pending, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { late = true; reject(new ConnectionTimeoutError(what, ms)) }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves with `pending` (work on `connection`) within `ms`; otherwise destroys the connection and rejects. */
async function answeredWithin<T> (connection: MysqlConnectionLike, pending: Promise<T>, ms: number, what: string): Promise<T> {
  pending.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([pending, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        try { connection.destroy() } catch {}
        reject(new ConnectionTimeoutError(what, ms))
      }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A connection of its own (not from the pool), built from the pool's settings, for `GET_LOCK` and
 * the change feed: `listen` polls `feed` on this connection (MySQL has no LISTEN/NOTIFY); the
 * channel name is not used (the feed's payloads say what changed).
 */
async function openMysqlSession (pool: MysqlPoolLike, options: SessionOptions, feed: ChangeFeed | null): Promise<SqlSession> {
  const mysql2 = await import('mysql2') as unknown as { Connection: new (options: { config: unknown }) => MysqlConnectionLike, ConnectionConfig: new (options: unknown) => unknown }
  const base = pool.config.connectionConfig
  const config = options.url === undefined && options.connectTimeoutMs === undefined
    ? base
    : new mysql2.ConnectionConfig({ ...(options.url === undefined ? {} : { uri: options.url }), ...pickSessionSettings(base, options) })
  const connection = new mysql2.Connection({ config })
  const endListeners: Array<(error?: Error) => void> = []
  let ended = false
  let poller: NodeJS.Timeout | undefined
  const end = (error?: Error): void => {
    if (ended) return
    ended = true
    clearTimeout(poller)
    for (const listener of endListeners) listener(error)
  }
  connection.on?.('error', (error: Error) => end(error))
  connection.on?.('end', () => end())
  await new Promise<void>((resolve, reject) => {
    connection.query({ sql: 'SELECT 1' }, (error) => { if (error !== null) reject(error); else resolve() })
  })
  connection.stream?.setKeepAlive?.(true, options.keepAliveInitialDelayMs ?? POOLED_KEEPALIVE_DELAY_MS)
  const deadlineMs = options.statementTimeoutMs === undefined ? null : options.statementTimeoutMs + CLIENT_GRACE_MS
  const query = async (text: string, values?: readonly unknown[]): Promise<any[]> => {
    if (deadlineMs === null) return run(connection, text, values)
    let timer: NodeJS.Timeout | undefined
    const pending = run(connection, text, values)
    pending.catch(() => {})
    try {
      return await Promise.race([pending, new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const error = new ConnectionTimeoutError('a query of the scheduler\'s own session', deadlineMs)
          connection.destroy()
          end(error)
          reject(error)
        }, deadlineMs)
      })])
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    query: query as SqlSession['query'],
    async listen (_channel, onNotify) {
      if (feed === null) throw new Error('MySQL and MariaDB have no LISTEN/NOTIFY, and this SQL port has no change feed to poll')
      let state = (await feed.poll({ query }, undefined)).state
      const tick = (): void => {
        if (ended) return
        feed.poll({ query }, state).then((next) => {
          state = next.state
          for (const payload of next.payloads) onNotify(payload)
        }, () => {}).finally(() => { if (!ended) poller = setTimeout(tick, feed.intervalMs).unref() })
      }
      poller = setTimeout(tick, feed.intervalMs).unref()
    },
    onEnd (callback) {
      if (ended) callback()
      else endListeners.push(callback)
    },
    async close () {
      if (ended) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => connection.end?.(() => resolve())),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, CLIENT_GRACE_MS) })
      ])
      clearTimeout(timer)
      connection.destroy()
      end()
    }
  }
}

/** The pool's credentials and host for a session with its own URL or connect timeout. */
function pickSessionSettings (base: Record<string, unknown>, options: SessionOptions): Record<string, unknown> {
  const settings: Record<string, unknown> = {}
  if (options.url === undefined) {
    for (const key of ['host', 'port', 'user', 'password', 'database', 'socketPath', 'ssl', 'charset']) {
      if (base[key] !== undefined && base[key] !== null) settings[key] = base[key]
    }
  }
  if (options.connectTimeoutMs !== undefined) settings.connectTimeout = options.connectTimeoutMs
  return settings
}
