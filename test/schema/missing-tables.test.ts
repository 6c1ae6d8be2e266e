/**
 * A table dropped under a running scheduler (a host's `schema:update` without our entities or
 * `skipTables` drops them): with `install: 'auto'` the loop installs the tables again and claiming
 * goes on; with `install: 'migrations'` it logs an error naming the migration to run, keeps
 * retrying, and resumes once the table is back.
 */
import { Writable } from 'node:stream'
import { Migrator } from '@mikro-orm/migrations'
import { MikroORM } from '@mikro-orm/postgresql'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { SCHEMA_VERSIONS, schedulerEntities, schedulerPlugin, type SchedulerPluginOptions } from '../../src/index.js'
import { schedulerMigrations } from '../../src/migration.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'

interface LogLine { level: number, msg: string }

/** Starts an app whose job `tick` fires every second, counting its runs; resolves after its first run. */
async function startTicking (t: Test, orm: MikroORM, extra: Partial<SchedulerPluginOptions> = {}) {
  const lines: LogLine[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as LogLine); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(async () => app.close())
  const runs: Date[] = []
  await app.register(schedulerPlugin, {
    orm,
    tasks: { tick: async (ctx) => { runs.push(ctx.runTime) } },
    jobs: [{ id: 'tick', task: 'tick', trigger: { type: 'interval', seconds: 1 } }],
    pollIntervalMs: 500,
    leaderHeartbeatMs: 200,
    leaderStaleMs: 1000,
    ...extra
  })
  await app.ready()
  await waitUntil('the first run of tick', () => runs.length > 0)
  return { app, runs, lines }
}

t.test("install: 'auto': scheduler_leader dropped under the leader is installed again, and jobs keep running", async (t) => {
  const url = await freshDatabase(t, 'missing_auto')
  const orm = await openOrm(t, url)
  const { app, runs, lines } = await startTicking(t, orm)

  await query(url, 'DROP TABLE scheduler_leader CASCADE')
  const reinstalled = await waitUntil('a log line saying the tables were installed again', () => lines.find((line) => /installed again/.test(line.msg)))
  t.match(reinstalled.msg, /scheduler_leader/, 'the log names the missing table')
  const runsAtReinstall = runs.length
  await waitUntil('two more runs of tick after the reinstall', () => runs.length >= runsAtReinstall + 2)
  t.pass('tick kept running')
  const leader = await waitUntil('a leader row again', async () => (await query(url, 'SELECT node_id FROM scheduler_leader'))[0])
  t.equal(leader.node_id, app.scheduler.nodeId, 'the leader heartbeats into the reinstalled table')
  const status = await app.scheduler.getStatus()
  t.equal(status.leader?.nodeId, app.scheduler.nodeId, 'the cluster status (GET /status) names the leader again')
})

t.test("install: 'migrations': the loop logs which migration is missing, retries, and resumes once the table is back", async (t) => {
  const url = await freshDatabase(t, 'missing_migrations')
  const owner = await MikroORM.init({
    clientUrl: url, entities: [...schedulerEntities], extensions: [Migrator], pool: { min: 0, max: 2 },
    migrations: { migrationsList: [...schedulerMigrations], snapshot: false, silent: true }
  })
  t.teardown(async () => owner.close(true))
  await owner.migrator.up()
  const orm = await openOrm(t, url)
  const { runs, lines } = await startTicking(t, orm, { install: 'migrations' })

  await query(url, 'DROP TABLE scheduler_leader CASCADE')
  const complaint = await waitUntil('an error log naming the missing migration', () => lines.find((line) => line.level >= 50 && /has not been applied/.test(line.msg)))
  t.match(complaint.msg, SCHEMA_VERSIONS[0]!.name, 'the error names the migration that creates the table')
  t.match(complaint.msg, /scheduler_leader/, 'and the missing table')
  t.notOk(await query(url, "SELECT to_regclass('scheduler_leader') AS t").then(([row]) => row?.t), 'the plugin did not create the table itself')

  // The owner puts the table back (here: the version's own DDL, as re-running the migration would).
  for (const statement of SCHEMA_VERSIONS[0]!.up) await query(url, statement)
  const runsAtRepair = runs.length
  await waitUntil('two more runs of tick after the repair', () => runs.length >= runsAtRepair + 2)
  t.pass('tick runs again')
})
