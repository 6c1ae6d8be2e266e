/**
 * The pg adapter's deadlines (src/sql/pg-client.ts) on real PostgreSQL with a one-connection pool:
 * waiting for a pooled connection has a deadline of its own, and does not eat into the deadline of
 * the transaction (a claim that waited for the pool must still get its time for COMMIT: one that
 * failed after COMMIT reached the server would leave its rows claimed and unrun).
 */
import pg from 'pg'
import t from 'tap'
import { createPgClient, ConnectionTimeoutError, type PgPoolLike } from '../../src/sql/pg-client.js'
import { freshDatabase } from '../helpers/database.js'

t.test('waiting for the pool and running the transaction each get the whole deadline', async (t) => {
  const url = await freshDatabase(t, 'pg_client_deadlines')
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => pool.end())
  const sql = createPgClient(pool as unknown as PgPoolLike)
  const timeoutMs = 1000 // deadline: 1000 ms + 1000 ms of client grace = 2000 ms, for each step

  // The only connection is busy for 1.6 s; then the transaction itself needs 0.8 s: 2.4 s in all.
  const holder = await pool.connect()
  const released = new Promise<void>((resolve) => setTimeout(() => { holder.release(); resolve() }, 1600))
  const startedAt = performance.now()
  const rows = await sql.transaction(async (tx) => tx.query('select pg_sleep(0.8), 42 as answer'), { timeoutMs })
  await released
  t.same(rows.map((row) => row.answer), [42], 'the transaction committed its result')
  t.ok(performance.now() - startedAt >= 2300, 'it took longer than one deadline in all')

  // A pool that yields no connection within the deadline: a clear error, and the connection that
  // arrives late goes back to the pool.
  const blocker = await pool.connect()
  setTimeout(() => blocker.release(), 2500)
  await t.rejects(sql.transaction(async (tx) => tx.query('select 1'), { timeoutMs }), ConnectionTimeoutError)
  const after = await sql.transaction(async (tx) => tx.query('select 7 as n'), { timeoutMs: 5000 })
  t.same(after, [{ n: 7 }], 'the pool is usable afterwards (the late connection was released)')
})

t.test('a statement with timeoutMs fails when its connection does not answer in time; the pool recovers', async (t) => {
  const url = await freshDatabase(t, 'pg_client_query_deadline')
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => pool.end())
  const sql = createPgClient(pool as unknown as PgPoolLike)
  const startedAt = performance.now()
  // The server is slow rather than the network, but the client cannot tell the two apart.
  await t.rejects(sql.query('select pg_sleep(5)', [], { timeoutMs: 200 }), ConnectionTimeoutError)
  const tookMs = performance.now() - startedAt
  t.ok(tookMs >= 1150 && tookMs < 4000, `it gave up after ${Math.round(tookMs)} ms (200 ms + 1 s of grace)`)
  t.same(await sql.query('select 3 as n', [], { timeoutMs: 2000 }), [{ n: 3 }], 'the next statement gets a fresh connection')
  t.same(await sql.query('select 4 as n'), [{ n: 4 }], 'and without a deadline too')
})
