/**
 * The database port: everything the scheduler says to its database goes through `SqlClient`
 * (pg-boss's `executeSql` idea). Adapters: `pg` pools (MikroORM's PostgreSQL driver), PGlite
 * (MikroORM's embedded driver), `mysql2` pools (MikroORM's MySQL and MariaDB drivers) and libSQL
 * (`@mikro-orm/libsql`, SQLite). Queries use the dialect's placeholders (`$1` on PostgreSQL and
 * PGlite, `?` on MySQL, `?1` or `?` on SQLite) and return plain rows; statements built with Kysely
 * (`query-builder.ts`) are compiled to the same and sent through the same `query`.
 */

/** Runs one statement and returns its rows. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>
}

/** A pooled client: statements, transactions, and dedicated sessions for locks and LISTEN. */
export interface SqlClient extends SqlExecutor {
  readonly dialect: 'postgresql' | 'pglite' | 'mysql' | 'sqlite'
  /**
   * Runs one statement on a pooled connection. With `options.timeoutMs`, a connection that has not
   * answered `timeoutMs` plus one second after the statement was sent (or that the pool has not
   * handed over by then) is destroyed and the call rejects: one round trip, a client-side deadline.
   */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[], options?: { timeoutMs?: number }): Promise<Row[]>
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. With
   * `timeoutMs`, PostgreSQL's `statement_timeout` and `idle_in_transaction_session_timeout` are set
   * for the transaction (`SET LOCAL`), and a connection that has not answered `timeoutMs` plus one
   * second after the transaction began is destroyed and the call rejects (a half-open connection).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>
  /** Opens a connection of its own (not from the pool), for session advisory locks and LISTEN. */
  openSession(options?: SessionOptions): Promise<SqlSession>
}

export interface TransactionOptions {
  /** Milliseconds a statement may run, or the transaction sit idle; see `transaction`. */
  timeoutMs?: number
}

/** How the dedicated session connects (PostgreSQL; the embedded adapter ignores it). */
export interface SessionOptions {
  /** Connection string for the session instead of the pool's own settings. */
  url?: string
  /** Milliseconds to wait for the connection to be established. */
  connectTimeoutMs?: number
  /** Milliseconds of idleness before TCP keepalive probes start. */
  keepAliveInitialDelayMs?: number
  /**
   * Milliseconds: the session's `statement_timeout` and `idle_in_transaction_session_timeout`, and
   * the client-side deadline of each query (plus one second), after which the connection is
   * destroyed and `onEnd` fires.
   */
  statementTimeoutMs?: number
}

/** A dedicated database session. `onEnd` fires once when the connection is lost or closed. */
export interface SqlSession extends SqlExecutor {
  listen(channel: string, onNotify: (payload: string) => void): Promise<void>
  onEnd(callback: (error?: Error) => void): void
  close(): Promise<void>
}

/** Timestamp parsing lives in `timestamps.ts`; re-exported here, where every store imports it from. */
export { toDate, toDateOrNull } from './timestamps.js'

/**
 * Runs `fn` with `db` as it is, or, with `options.timeoutMs`, with each of its statements under
 * that deadline (see `SqlClient.query`), so none can hang on a half-open connection. The executor
 * keeps `db`'s `transaction` (under the same deadline), for {@link atomically}.
 */
export async function withQueryTimeout<T> (db: SqlClient, options: { timeoutMs?: number }, fn: (db: SqlExecutor) => Promise<T>): Promise<T> {
  if (options.timeoutMs === undefined) return fn(db)
  const executor: SqlExecutor & Pick<SqlClient, 'transaction'> = {
    query: async (text, values) => db.query(text, values, options),
    transaction: async (inner, transactionOptions) => db.transaction(inner, { ...options, ...transactionOptions })
  }
  return fn(executor)
}

/**
 * Runs `fn` in one transaction when `db` can open one (a `SqlClient`, or an executor of
 * {@link withQueryTimeout}), else on `db` itself (a transaction's executor: already atomic). For a
 * dialect that needs several statements where PostgreSQL writes in one (no data-modifying CTEs).
 */
export async function atomically<T> (db: SqlExecutor, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const transaction = (db as Partial<Pick<SqlClient, 'transaction'>>).transaction
  return typeof transaction === 'function' ? transaction.call(db, fn) as Promise<T> : fn(db)
}

/**
 * A statement named a table that does not exist (a host's schema tool dropped it): PostgreSQL
 * `undefined_table` (42P01), or MySQL/MariaDB `ER_NO_SUCH_TABLE` (errno 1146).
 */
export function isUndefinedTable (error: unknown): boolean {
  const fault = error as { code?: unknown, errno?: unknown } | null
  return fault?.code === '42P01' || fault?.errno === 1146
}
