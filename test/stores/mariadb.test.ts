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
import { freshMariadbDatabase, mariadbQuery, openMariadbOrm } from '../helpers/mariadb.js'
import { jobStoreContract } from './contract.js'
import { executionStatsContract } from './execution-stats-contract.js'
import { auditContract } from './audit-contract.js'
import { nodeRegistryContract } from './node-registry-contract.js'
import { retryContract } from './retry-contract.js'
import { queuedRunsContract } from './queued-runs-contract.js'

const url = await freshMariadbDatabase(t, 'stores')
const orm = await openMariadbOrm(t, url)
const otherOrm = await openMariadbOrm(t, url)

async function dropTables (): Promise<void> {
  for (const statement of MYSQL_DROP_STATEMENTS) await mariadbQuery(url, statement)
}

t.test('the ORM runs on MariaDB', async (t) => {
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  t.equal(store.sql.dialect, 'mysql')
})

jobStoreContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(otherOrm) }
})

executionStatsContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(otherOrm) }
})

nodeRegistryContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm) }
})

auditContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm) }
})

retryContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm) }
})

queuedRunsContract(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm) }
})
