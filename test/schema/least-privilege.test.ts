/**
 * `install: 'migrations'`: the tables come from the host's migrator (run by an owner role) and the
 * app connects as a role with nothing but SELECT/INSERT/UPDATE/DELETE. The plugin then starts and
 * runs jobs without any DDL, and refuses to start, naming the migration, when the schema is missing
 * or older than the library. The control: `install: 'auto'` cannot start as that role once it has
 * DDL to run (an object missing); with every object in place it runs none and starts.
 */
import { randomBytes } from 'node:crypto'
import { Migrator } from '@mikro-orm/migrations'
import { MikroORM } from '@mikro-orm/postgresql'
import Fastify from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { SCHEMA_VERSIONS, schedulerEntities, schedulerPlugin, type SchedulerPluginOptions } from '../../src/index.js'
import { schedulerMigrations } from '../../src/migration.js'
import { BASE_URL, freshDatabase, query } from '../helpers/database.js'

/** Creates a login role allowed only to read and write the tables of `url`'s database; dropped at the end of `t`. Returns its URL. */
async function appRoleUrl (t: Test, url: string): Promise<string> {
  const role = `fms_app_${randomBytes(4).toString('hex')}`
  const database = new URL(url).pathname.slice(1)
  await query(url, `CREATE ROLE ${role} LOGIN`)
  await query(url, `GRANT CONNECT ON DATABASE "${database}" TO ${role}`)
  await query(url, `GRANT USAGE ON SCHEMA public TO ${role}`)
  // Tables and sequences the owner creates later are covered too (identity columns need USAGE on their sequence).
  await query(url, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`)
  await query(url, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO ${role}`)
  t.teardown(async () => {
    const admin = new pg.Client({ connectionString: BASE_URL })
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
      await admin.query(`DROP ROLE IF EXISTS ${role}`)
    } finally {
      await admin.end()
    }
  })
  const appUrl = new URL(url)
  appUrl.username = role
  return appUrl.toString()
}

async function migrateAsOwner (t: Test, url: string): Promise<MikroORM> {
  const owner = await MikroORM.init({
    clientUrl: url, entities: [...schedulerEntities], extensions: [Migrator], pool: { min: 0, max: 2 },
    migrations: { migrationsList: [...schedulerMigrations], snapshot: false, silent: true }
  })
  t.teardown(async () => owner.close(true))
  await owner.migrator.up()
  return owner
}

async function appOn (t: Test, url: string, options: Partial<SchedulerPluginOptions>) {
  const orm = await MikroORM.init({ clientUrl: url, entities: [...schedulerEntities], pool: { min: 0, max: 3 } })
  t.teardown(async () => orm.close(true))
  const app = Fastify()
  t.teardown(async () => app.close())
  const runs: string[] = []
  await app.register(schedulerPlugin, { orm, tasks: { work: async (ctx) => { runs.push(ctx.job.id) } }, pollIntervalMs: 1000, ...options })
  return { app, runs }
}

t.test("a read/write-only role starts with install: 'migrations' and runs jobs; 'auto' only while nothing is missing", async (t) => {
  const url = await freshDatabase(t, 'least_privilege')
  const appUrl = await appRoleUrl(t, url)
  await migrateAsOwner(t, url)

  // 'auto' needs no DDL rights while every object is in place (it only reads the catalogs) ...
  const auto = await appOn(t, appUrl, {})
  await auto.app.ready()
  t.pass("install: 'auto' starts as the read/write role when the owner's migrations left nothing to do")
  await auto.app.close()
  // ... but as soon as one is missing it runs the DDL, which the role may not.
  await query(url, 'DROP INDEX scheduler_job_next_run_time_idx')
  const autoMissing = await appOn(t, appUrl, {})
  await t.rejects(async () => { await autoMissing.app.ready() }, { code: '42501' }, "control: install: 'auto' with an index missing runs DDL, which the role may not (permission denied)")
  await query(url, 'CREATE INDEX scheduler_job_next_run_time_idx ON scheduler_job (next_run_time) WHERE NOT paused')

  const { app, runs } = await appOn(t, appUrl, { install: 'migrations' })
  await app.ready()
  const executed = app.scheduler.once('job:executed', ({ jobId }) => jobId === 'now')
  await app.scheduler.addJob({ id: 'now', task: 'work', trigger: { type: 'date', runDate: new Date().toISOString() } })
  await executed
  t.same(runs, ['now'], 'the job ran once')
  const [row] = await query(url, "SELECT status FROM scheduler_job_execution WHERE job_id = 'now'")
  t.equal(row?.status, 'success', 'its execution was recorded by the read/write role')
  const [leader] = await query(url, 'SELECT node_id FROM scheduler_leader')
  t.equal(leader?.node_id, app.scheduler.nodeId, 'the leader heartbeat row is written by the read/write role')
})

t.test("install: 'migrations' refuses to start, naming the migration, when the tables are missing or older", async (t) => {
  const url = await freshDatabase(t, 'migrations_missing')
  const appUrl = await appRoleUrl(t, url)
  const first = SCHEMA_VERSIONS[0]!

  const none = await appOn(t, appUrl, { install: 'migrations' })
  await t.rejects(async () => { await none.app.ready() }, { code: 'FST_SCHEDULER_SCHEMA_OUTDATED', message: new RegExp(`migration '${first.name}'`) }, 'no tables: names the first migration')

  const owner = await migrateAsOwner(t, url)
  // Tables of an older schema: the running-executions index and the leader table came later.
  await query(url, 'DROP INDEX scheduler_job_execution_running_idx')
  const older = await appOn(t, appUrl, { install: 'migrations' })
  await t.rejects(async () => { await older.app.ready() }, { code: 'FST_SCHEDULER_SCHEMA_OUTDATED', message: /has not been applied/ }, 'an older schema: refused')
  t.equal((await query(url, "SELECT to_regclass('scheduler_job_execution_running_idx') AS i"))[0]?.i, null, 'and nothing was changed')

  await owner.migrator.down({ to: 0 })
  await owner.migrator.up()
  const current = await appOn(t, appUrl, { install: 'migrations' })
  await current.app.ready()
  t.pass('after the migrations ran again, it starts')
})
