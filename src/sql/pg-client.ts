/**
 * `SqlClient` over a `pg` Pool (the pool of MikroORM's PostgreSQL driver, from
 * `orm.em.getConnection().getNativeClient()`). Dedicated sessions are separate `pg.Client`s built
 * with the pool's own options, so a session advisory lock never lands on a pooled connection.
 */
import type { SqlClient, SqlExecutor, SqlSession } from './sql-client.js'

/** The part of `pg.Pool` this adapter uses (structural, so no direct dependency on `pg`). */
export interface PgPoolLike {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>
  connect(): Promise<PgClientLike & { release(destroy?: boolean | Error): void }>
  options: Record<string, unknown>
  Client: new (options: Record<string, unknown>) => PgClientLike
}

interface PgClientLike {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>
  connect?(): Promise<void>
  end?(): Promise<void>
  on?(event: string, listener: (...args: any[]) => void): unknown
}

export function createPgClient (pool: PgPoolLike): SqlClient {
  return {
    dialect: 'postgresql',
    async query (text, values) {
      return (await pool.query(text, values as unknown[])).rows
    },
    async transaction (fn) {
      const client = await pool.connect()
      const tx: SqlExecutor = { query: async (text, values) => (await client.query(text, values as unknown[])).rows }
      try {
        await client.query('BEGIN')
        const result = await fn(tx)
        await client.query('COMMIT')
        client.release()
        return result
      } catch (error) {
        await client.query('ROLLBACK').then(() => client.release(), (rollbackError: Error) => client.release(rollbackError))
        throw error
      }
    },
    async openSession () {
      return openPgSession(pool)
    }
  }
}

async function openPgSession (pool: PgPoolLike): Promise<SqlSession> {
  const client = new pool.Client({ ...pool.options }) as Required<PgClientLike>
  const endListeners: Array<(error?: Error) => void> = []
  let ended = false
  const end = (error?: Error): void => {
    if (ended) return
    ended = true
    for (const listener of endListeners) listener(error)
  }
  const notifyListeners = new Map<string, (payload: string) => void>()
  client.on('error', (error: Error) => end(error))
  client.on('end', () => end())
  client.on('notification', (message: { channel: string, payload?: string }) => {
    notifyListeners.get(message.channel)?.(message.payload ?? '')
  })
  await client.connect()
  return {
    async query (text, values) {
      return (await client.query(text, values as unknown[])).rows
    },
    async listen (channel, onNotify) {
      notifyListeners.set(channel, onNotify)
      await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
    },
    onEnd (callback) {
      if (ended) callback()
      else endListeners.push(callback)
    },
    async close () {
      if (ended) return
      await client.end().catch(() => {})
      end()
    }
  }
}
