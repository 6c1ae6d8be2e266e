/**
 * `SqlClient` over a `pg` Pool (the pool of MikroORM's PostgreSQL driver, from
 * `orm.em.getConnection().getNativeClient()`). Dedicated sessions are separate `pg.Client`s built
 * with the pool's own options (or `SessionOptions.url`), so a session advisory lock never lands on
 * a pooled connection.
 *
 * Connections and faults: every connection this adapter opens or borrows gets TCP keepalive; a
 * transaction with `timeoutMs` runs under `SET LOCAL statement_timeout` and
 * `SET LOCAL idle_in_transaction_session_timeout` (so the server ends a transaction whose client
 * went silent, releasing its row locks), and the client destroys a connection that does not answer
 * in time (a half-open connection: no keepalive notices it while a middlebox still answers).
 */
import type { SessionOptions, SqlClient, SqlExecutor, SqlSession, TransactionOptions } from './sql-client.js'

/** The part of `pg.Pool` this adapter uses (structural, so no direct dependency on `pg`). */
export interface PgPoolLike {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>
  connect(): Promise<PooledClientLike>
  options: Record<string, unknown>
  Client: new (options: Record<string, unknown>) => PgClientLike
}

type PooledClientLike = PgClientLike & { release(destroy?: boolean | Error): void }

interface PgClientLike {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>
  connect?(): Promise<void>
  end?(): Promise<void>
  on?(event: string, listener: (...args: any[]) => void): unknown
  /** pg's wire connection; its `stream` is the socket. */
  connection?: { stream?: { setKeepAlive?(enable: boolean, delayMs: number): unknown, destroy?(error?: Error): unknown } }
}

/** Keepalive delay for borrowed pool connections (milliseconds of idleness before probes start). */
const POOLED_KEEPALIVE_DELAY_MS = 10_000
/** Slack after a server-side timeout before the client gives the connection up. */
const CLIENT_GRACE_MS = 1000

/** Thrown when a connection did not answer within its deadline (it is destroyed). */
export class ConnectionTimeoutError extends Error {
  constructor (what: string, ms: number) {
    super(`the database connection did not answer ${what} within ${ms} ms (a hung or half-open connection); it was closed`)
    this.name = 'ConnectionTimeoutError'
  }
}

/**
 * Every transaction asks for READ COMMITTED rather than inheriting the server's or role's
 * `default_transaction_isolation`: the claim relies on it (a statement after `FOR UPDATE SKIP
 * LOCKED` sees rows committed meanwhile; under REPEATABLE READ it would read the first snapshot
 * and a concurrently updated row would raise 40001). PostgreSQL docs, "Transaction Isolation".
 */
const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED'

export function createPgClient (pool: PgPoolLike): SqlClient {
  return {
    dialect: 'postgresql',
    async query (text, values, options = {}) {
      if (options.timeoutMs === undefined) return (await pool.query(text, values as unknown[])).rows
      const deadlineMs = options.timeoutMs + CLIENT_GRACE_MS
      const client = await withDeadline(pool.connect(), deadlineMs, 'a pooled connection', (late) => late.release())
      client.connection?.stream?.setKeepAlive?.(true, POOLED_KEEPALIVE_DELAY_MS)
      try {
        const { rows } = await answeredWithin(client, client.query(text, values as unknown[]), deadlineMs, 'a statement')
        client.release()
        return rows
      } catch (error) {
        // A connection that timed out was destroyed (released for good) already.
        if (!(error instanceof ConnectionTimeoutError)) client.release()
        throw error
      }
    },
    async transaction (fn, options: TransactionOptions = {}) {
      const timeoutMs = options.timeoutMs
      if (timeoutMs === undefined) return runTransaction(await pool.connect(), fn, BEGIN)
      const deadlineMs = timeoutMs + CLIENT_GRACE_MS
      // Two deadlines, each of deadlineMs: one for borrowing a connection (a pool exhausted or a
      // server not accepting), then one for the transaction itself, started only once it has a
      // connection, so waiting for the pool never eats into the time COMMIT is given.
      const client = await withDeadline(pool.connect(), deadlineMs, 'a pooled connection', (late) => late.release())
      const ms = Math.floor(timeoutMs)
      return answeredWithin(client, runTransaction(client, fn, `${BEGIN}; SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms}`), deadlineMs, 'a transaction')
    },
    async openSession (options) {
      return openPgSession(pool, options ?? {})
    }
  }
}

async function runTransaction<T> (client: PooledClientLike, fn: (tx: SqlExecutor) => Promise<T>, begin: string): Promise<T> {
  client.connection?.stream?.setKeepAlive?.(true, POOLED_KEEPALIVE_DELAY_MS)
  const tx: SqlExecutor = { query: async (text, values) => (await client.query(text, values as unknown[])).rows }
  try {
    await client.query(begin)
    const result = await fn(tx)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (error) {
    await client.query('ROLLBACK').then(() => client.release(), (rollbackError: Error) => client.release(rollbackError))
    throw error
  }
}

/**
 * Resolves with `pending` if it settles within `ms`; otherwise rejects with a
 * `ConnectionTimeoutError` about `what`, and hands the value to `discard` if it arrives later.
 */
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

/**
 * Resolves with `pending` (work on `client`) if it settles within `ms`; otherwise destroys `client`
 * (a hung or half-open connection) and rejects with a `ConnectionTimeoutError` about `what`.
 */
async function answeredWithin<T> (client: PooledClientLike, pending: Promise<T>, ms: number, what: string): Promise<T> {
  pending.catch(() => {}) // a late failure after the deadline has nobody to tell
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([pending, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        destroy(client)
        reject(new ConnectionTimeoutError(what, ms))
      }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/** Gives a pooled connection up for good: the pool drops it and its socket is closed at once. */
function destroy (client: PooledClientLike): void {
  try { client.release(new Error('connection timed out')) } catch {}
  client.connection?.stream?.destroy?.()
}

async function openPgSession (pool: PgPoolLike, options: SessionOptions): Promise<SqlSession> {
  const config: Record<string, unknown> = { ...pool.options, keepAlive: true }
  if (options.url !== undefined) config.connectionString = options.url
  if (options.keepAliveInitialDelayMs !== undefined) config.keepAliveInitialDelayMillis = options.keepAliveInitialDelayMs
  if (options.connectTimeoutMs !== undefined) config.connectionTimeoutMillis = options.connectTimeoutMs
  if (options.statementTimeoutMs !== undefined) {
    config.statement_timeout = options.statementTimeoutMs
    config.idle_in_transaction_session_timeout = options.statementTimeoutMs
  }
  const client = new pool.Client(config) as Required<Omit<PgClientLike, 'connection'>> & Pick<PgClientLike, 'connection'>
  const endListeners: Array<(error?: Error) => void> = []
  let ended = false
  const end = (error?: Error): void => {
    if (ended) return
    ended = true
    for (const listener of endListeners) listener(error)
  }
  const kill = (error: Error): void => {
    client.connection?.stream?.destroy?.()
    end(error)
  }
  const notifyListeners = new Map<string, (payload: string) => void>()
  client.on('error', (error: Error) => end(error))
  client.on('end', () => end())
  client.on('notification', (message: { channel: string, payload?: string }) => {
    notifyListeners.get(message.channel)?.(message.payload ?? '')
  })
  await client.connect()
  const deadlineMs = options.statementTimeoutMs === undefined ? null : options.statementTimeoutMs + CLIENT_GRACE_MS
  const query = async (text: string, values?: readonly unknown[]): Promise<any[]> => {
    if (deadlineMs === null) return (await client.query(text, values as unknown[])).rows
    let timer: NodeJS.Timeout | undefined
    const pending = client.query(text, values as unknown[])
    pending.catch(() => {})
    try {
      return (await Promise.race([pending, new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const error = new ConnectionTimeoutError('a query of the scheduler\'s own session', deadlineMs)
          kill(error)
          reject(error)
        }, deadlineMs)
      })])).rows
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    query: query as SqlSession['query'],
    async listen (channel, onNotify) {
      notifyListeners.set(channel, onNotify)
      await query(`LISTEN "${channel.replaceAll('"', '""')}"`)
    },
    onEnd (callback) {
      if (ended) callback()
      else endListeners.push(callback)
    },
    async close () {
      if (ended) return
      // A polite end waits for the server; a connection that does not answer is cut.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([client.end().catch(() => {}), new Promise<void>((resolve) => { timer = setTimeout(resolve, CLIENT_GRACE_MS) })])
      clearTimeout(timer)
      client.connection?.stream?.destroy?.()
      end()
    }
  }
}
