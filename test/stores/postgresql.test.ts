/**
 * The JobStore contract against `MikroOrmJobStore` on the real PostgreSQL server. One database
 * serves the file, reached through two MikroORM instances (two pools, as two processes would);
 * each test starts from dropped tables, so `initialize()` really creates them. Plus what only
 * a server shows: concurrent schema installation and `FOR UPDATE SKIP LOCKED`.
 */
import pg from 'pg'
import t from 'tap'
import { DROP_STATEMENTS } from '../../src/schema/ddl.js'
import type { ClaimPlanner } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { at, newJob } from './contract.js'
import { schemaContract } from './schema-contract.js'
import { allStoreContracts } from './all-parts-contract.js'

const url = await freshDatabase(t, 'stores')
const orm = await openOrm(t, url)
const otherOrm = await openOrm(t, url)

async function dropTables (): Promise<void> {
  for (const statement of DROP_STATEMENTS) await query(url, statement)
}

t.test('the ORM runs on PostgreSQL', async (t) => {
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  t.equal(store.sql.dialect, 'postgresql')
})

allStoreContracts(t, async () => {
  await dropTables()
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(otherOrm) }
})

schemaContract(t, async () => {
  await dropTables()
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  return store.sql
})

t.test('initialize() from many processes at once never fails (advisory lock)', async (t) => {
  for (let round = 0; round < 5; round++) {
    await dropTables()
    const stores = [orm, otherOrm, orm, otherOrm, orm, otherOrm].map((o) => new MikroOrmJobStore(o))
    const results = await Promise.allSettled(stores.map(async (store) => store.initialize()))
    const failures = results.filter((result) => result.status === 'rejected')
    t.same(failures, [], `round ${round}: every concurrent initialize() succeeded`)
  }
  const tables = await query(url, `SELECT tablename FROM pg_tables WHERE tablename LIKE 'scheduler_%' ORDER BY tablename`)
  t.same(tables.map((row) => row.tablename), ['scheduler_audit', 'scheduler_job', 'scheduler_job_execution', 'scheduler_leader', 'scheduler_node'])
})

t.test('claimDueJobs skips a job locked by another transaction instead of waiting (SKIP LOCKED)', async (t) => {
  await dropTables()
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  await store.addJob(newJob('locked', { nextRunTime: at(0) }))
  await store.addJob(newJob('free', { nextRunTime: at(1) }))
  const plan: ClaimPlanner = (job) => ({ run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0, nextRunTime: at(3600) })

  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.teardown(async () => holder.end())
  await holder.query('BEGIN')
  await holder.query(`SELECT id FROM scheduler_job WHERE id = 'locked' FOR UPDATE`)
  let timer: NodeJS.Timeout | undefined
  const blocked = new Promise<'blocked'>((resolve) => { timer = setTimeout(() => resolve('blocked'), 5000) })
  const claims = await Promise.race([store.claimDueJobs({ now: at(10), limit: 10, startLimit: 10, tasks: ['task.a'], owner: 'n', leaseMs: 1000, plan }), blocked])
  clearTimeout(timer)
  await holder.query('ROLLBACK')
  t.not(claims, 'blocked', 'the claim did not wait for the locked row')
  if (claims === 'blocked') return
  t.same(claims.map((claim) => claim.job.id), ['free'], 'only the unlocked job was claimed')
  t.equal(ms((await store.getJob('locked'))?.nextRunTime), ms(at(0)), 'the locked job is untouched')

  const later = await store.claimDueJobs({ now: at(10), limit: 10, startLimit: 10, tasks: ['task.a'], owner: 'n', leaseMs: 1000, plan })
  t.same(later.map((claim) => claim.job.id), ['locked'], 'once released it is claimed')
})

function ms (date: Date | null | undefined): number | null {
  return date == null ? null : date.getTime()
}

