/**
 * The claim relies on READ COMMITTED (a statement after FOR UPDATE SKIP LOCKED must see rows
 * committed meanwhile). Transactions ask for it explicitly, whatever the database's
 * default_transaction_isolation says.
 */
import t from 'tap'
import { sqlClientFromOrm } from '../../src/sql/from-orm.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'

t.test('transactions run at READ COMMITTED on a database whose default is REPEATABLE READ', async (t) => {
  const url = await freshDatabase(t, 'isolation')
  const name = new URL(url).pathname.slice(1)
  await query(url, `ALTER DATABASE "${name}" SET default_transaction_isolation = 'repeatable read'`)
  const orm = await openOrm(t, url)
  const sql = await sqlClientFromOrm(orm)
  const [plain] = await sql.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level")
  t.equal(plain?.level, 'repeatable read', 'the database default applies outside our transactions (the control)')
  for (const options of [undefined, { timeoutMs: 2000 }]) {
    const level = await sql.transaction(async (tx) => {
      const [row] = await tx.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level")
      return row?.level
    }, options)
    t.equal(level, 'read committed', `a transaction ${options === undefined ? 'without' : 'with'} a timeout runs at READ COMMITTED`)
  }
})
