/**
 * `SqlClient` over a PGlite instance (MikroORM's embedded driver, `@mikro-orm/pglite`). PGlite
 * is one connection in this process, so a "session" shares it; cross-process safety on PGlite
 * comes from the file lock (PGlite's data directory cannot be shared by processes anyway).
 */
import type { SqlClient, SqlExecutor, SqlSession } from './sql-client.js'

/** The part of `PGlite` this adapter uses. */
export interface PgliteLike {
  query<T>(text: string, params?: any[]): Promise<{ rows: T[] }>
  transaction<T>(callback: (tx: { query<R>(text: string, params?: any[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>
}

export function createPgliteClient (pglite: PgliteLike): SqlClient {
  return {
    dialect: 'pglite',
    async query<Row>(text: string, values?: readonly unknown[]) {
      return (await pglite.query<Row>(text, values as unknown[])).rows
    },
    async transaction (fn) {
      return pglite.transaction(async (tx) => {
        const executor: SqlExecutor = { query: async <Row>(text: string, values?: readonly unknown[]) => (await tx.query<Row>(text, values as unknown[])).rows }
        return fn(executor)
      })
    },
    async openSession () {
      return openPgliteSession(pglite)
    }
  }
}

async function openPgliteSession (pglite: PgliteLike): Promise<SqlSession> {
  const unlisteners: Array<() => Promise<void>> = []
  const endListeners: Array<(error?: Error) => void> = []
  let closed = false
  return {
    async query<Row>(text: string, values?: readonly unknown[]) {
      return (await pglite.query<Row>(text, values as unknown[])).rows
    },
    async listen (channel, onNotify) {
      unlisteners.push(await pglite.listen(channel, onNotify))
    },
    onEnd (callback) {
      if (closed) callback()
      else endListeners.push(callback)
    },
    async close () {
      if (closed) return
      closed = true
      await Promise.all(unlisteners.map(async (unlisten) => unlisten().catch(() => {})))
      for (const listener of endListeners) listener()
    }
  }
}
