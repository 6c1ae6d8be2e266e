/**
 * PostgreSQL schemas: the MikroORM `schema` option places the tables (and the host's entities find
 * them there), the plugin's `schema` option overrides it, and two schedulers in two schemas of one
 * database are independent: each leads, runs only its own jobs, and its schema diff is empty.
 */
import { MikroORM } from '@mikro-orm/postgresql'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { SchedulerJob, schedulerEntities, schedulerPlugin, type SchedulerPluginOptions } from '../../src/index.js'
import { freshDatabase, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'

async function schedulerIn (t: Test, orm: MikroORM, options: Partial<SchedulerPluginOptions> = {}) {
  const app = Fastify()
  t.teardown(async () => app.close())
  const ran: string[] = []
  await app.register(schedulerPlugin, { orm, tasks: { work: async (ctx) => { ran.push(ctx.job.id) } }, pollIntervalMs: 500, ...options })
  await app.ready()
  return { app, ran }
}

async function tablesOf (url: string): Promise<string[]> {
  const rows = await query(url, "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_name LIKE 'scheduler\\_%' ORDER BY 1")
  return rows.map((row) => row.name as string)
}

t.test("the ORM's schema option places the tables; the host's entities find them; the diff is empty", async (t) => {
  const url = await freshDatabase(t, 'schema_orm')
  const orm = await MikroORM.init({ clientUrl: url, schema: 'hostapp', entities: [...schedulerEntities], pool: { min: 0, max: 4 } })
  t.teardown(async () => orm.close(true))
  const { app, ran } = await schedulerIn(t, orm)
  t.same(await tablesOf(url), ['hostapp.scheduler_audit', 'hostapp.scheduler_job', 'hostapp.scheduler_job_execution', 'hostapp.scheduler_leader', 'hostapp.scheduler_node'], 'all five tables in hostapp, none in public')

  await app.scheduler.addJob({ id: 'in-hostapp', task: 'work', trigger: { type: 'date', runDate: new Date().toISOString() } })
  await waitUntil('the job to run', () => ran.includes('in-hostapp'))
  t.equal(await orm.em.fork().count(SchedulerJob), 1, "the host's em.count(SchedulerJob) reads hostapp.scheduler_job")
  t.equal((await query(url, 'SELECT count(*)::int AS n FROM hostapp.scheduler_job_execution'))[0]?.n, 1, 'the execution is recorded in hostapp')
  t.equal((await orm.schema.getUpdateSchemaSQL()).trim(), '', 'schema:update proposes nothing')
})

t.test('two schedulers in two schemas of one database are independent', async (t) => {
  const url = await freshDatabase(t, 'schema_two')
  const orm = await MikroORM.init({ clientUrl: url, entities: [...schedulerEntities], pool: { min: 0, max: 6 } })
  t.teardown(async () => orm.close(true))
  const a = await schedulerIn(t, orm, { schema: 'tenant_a' })
  const b = await schedulerIn(t, orm, { schema: 'tenant_b' })
  t.same(await tablesOf(url), [
    'tenant_a.scheduler_audit', 'tenant_a.scheduler_job', 'tenant_a.scheduler_job_execution', 'tenant_a.scheduler_leader', 'tenant_a.scheduler_node',
    'tenant_b.scheduler_audit', 'tenant_b.scheduler_job', 'tenant_b.scheduler_job_execution', 'tenant_b.scheduler_leader', 'tenant_b.scheduler_node'
  ], 'each schema has its own tables, public has none')
  await waitUntil('both to lead (distinct leader lock keys)', () => a.app.scheduler.status().isLeader && b.app.scheduler.status().isLeader)
  t.pass('both lead at once')

  await a.app.scheduler.addJob({ id: 'only-a', task: 'work', trigger: { type: 'interval', seconds: 1 } })
  await b.app.scheduler.addJob({ id: 'only-b', task: 'work', trigger: { type: 'interval', seconds: 1 } })
  await waitUntil('two runs in each', () => a.ran.length >= 2 && b.ran.length >= 2)
  t.same([...new Set(a.ran)], ['only-a'], 'A runs only its own job')
  t.same([...new Set(b.ran)], ['only-b'], 'B runs only its own job')
  t.same((await a.app.scheduler.getJobs()).map((job) => job.id), ['only-a'], "A's API sees only its jobs")
  const leaders = await query(url, "SELECT 'a' AS s, node_id FROM tenant_a.scheduler_leader UNION ALL SELECT 'b', node_id FROM tenant_b.scheduler_leader ORDER BY 1")
  t.same(leaders.map((row) => row.node_id), [a.app.scheduler.nodeId, b.app.scheduler.nodeId], 'each heartbeats into its own leader table')

  // A wake-up of A (a job due now, added behind its back) reaches A only through A's channel.
  await query(url, `INSERT INTO tenant_a.scheduler_job (id, name, task, trigger, next_run_time, next_fire_time)
    VALUES ('sql-a', 'sql-a', 'work', '{"type":"date","runDate":"2020-01-01T00:00:00Z","version":1}', now(), now())`)
  await query(url, "SELECT pg_notify('scheduler_wakeup:tenant_a', 'test')")
  await waitUntil('the job added with SQL to run in A', () => a.ran.includes('sql-a'))
  t.notOk(b.ran.includes('sql-a'), 'and never in B')
})
