/**
 * The JobStore contract against `MikroOrmJobStore` on the real MariaDB server (`MARIADB_URL`), with
 * MikroORM's MariaDB driver. One database serves the file, reached through two MikroORM instances
 * (two pools, as two processes would); each test starts from dropped tables, so `initialize()`
 * really creates them. The PostgreSQL catalog checks of `schema-contract.ts` have their MySQL
 * counterpart in `mariadb-schema.test.ts`.
 */
import t from 'tap'
import { MYSQL_DROP_STATEMENTS } from '../../src/schema/mysql-ddl.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshMariadbDatabase, mariadbQuery, MYSQL8_SQL_MODE, openMariadbOrm } from '../helpers/mariadb.js'
import { allStoreContracts } from './all-parts-contract.js'

const url = await freshMariadbDatabase(t, 'stores')
// The pools run in MySQL 8.0's default sql_mode (ONLY_FULL_GROUP_BY, strict), stricter than
// MariaDB's, so the contract also judges the statements as MySQL 8 would (MySQL 8 itself could not
// be installed here); mariadb-store.test.ts and the scheduler tests keep MariaDB's own mode.
const orm = await openMariadbOrm(t, url, { sqlMode: MYSQL8_SQL_MODE })
const otherOrm = await openMariadbOrm(t, url, { sqlMode: MYSQL8_SQL_MODE })

async function dropTables (): Promise<void> {
  for (const statement of MYSQL_DROP_STATEMENTS) await mariadbQuery(url, statement)
}

t.test('the ORM runs on MariaDB, in MySQL 8.0\'s sql_mode', async (t) => {
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  t.equal(store.sql.dialect, 'mysql')
  const [mode] = await store.sql.query<{ mode: string }>('SELECT @@SESSION.sql_mode AS mode')
  t.equal(mode?.mode, MYSQL8_SQL_MODE)
})

allStoreContracts(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(otherOrm) }
})

