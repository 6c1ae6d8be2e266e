/**
 * The JobStore contract against `MikroOrmJobStore` on PGlite (MikroORM's embedded driver,
 * in memory). One PGlite instance serves the file; each test starts from dropped tables, so
 * `initialize()` really creates them.
 */
import { MikroORM } from '@mikro-orm/pglite'
import t from 'tap'
import { SchedulerJob } from '../../src/entities/scheduler-job.js'
import { SchedulerJobExecution } from '../../src/entities/scheduler-job-execution.js'
import { DROP_STATEMENTS } from '../../src/schema/ddl.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { schemaContract } from './schema-contract.js'
import { allStoreContracts } from './all-parts-contract.js'

// `memory://` is PGlite's in-memory data directory (a `:memory:` dbName would be a directory name).
const orm = await MikroORM.init({ dbName: 'memory://', entities: [SchedulerJob, SchedulerJobExecution] })
t.teardown(async () => orm.close(true))

async function dropTables (): Promise<void> {
  for (const statement of DROP_STATEMENTS) await orm.em.getConnection().execute(statement)
}

t.test('the ORM runs on PGlite', async (t) => {
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  t.equal(store.sql.dialect, 'pglite')
})

allStoreContracts(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(orm) }
})

schemaContract(t, async () => {
  await dropTables()
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  return store.sql
})

