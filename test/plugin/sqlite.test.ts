/**
 * The SQLite path: the plugin on MikroORM's libSQL driver. With a database file, `lock: 'auto'`
 * takes a file lock beside it (`<file>.scheduler.lock`) and jobs persist across restarts of the
 * app; a file another live process holds is refused, naming it; options SQLite cannot honour are
 * refused at registration with errors that say what to use.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MikroORM as CoreMikroORM } from '@mikro-orm/core'
import { MikroORM } from '@mikro-orm/libsql'
import Fastify from 'fastify'
import t from 'tap'
import { SchedulerAudit, SchedulerJob, SchedulerJobExecution, schedulerPlugin } from '../../src/index.js'
import { sqliteDatabaseFile } from '../../src/embedded.js'
import { ormDialect } from '../../src/sql/from-orm.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'

const dir = mkdtempSync(join(tmpdir(), 'fms-sqlite-plugin-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

async function appOn (dbName: string, options: Record<string, unknown> = {}) {
  const orm = await MikroORM.init({ dbName, entities: [SchedulerJob, SchedulerJobExecution] })
  const app = Fastify()
  await app.register(schedulerPlugin, { orm, tasks: { tick: async () => {} }, ...options })
  return { app, orm }
}

t.test('runs jobs on SQLite with a file lock beside the database file, and keeps them across restarts', async (t) => {
  const dbFile = join(dir, 'restart.db')
  const lockFile = `${dbFile}.scheduler.lock`
  const first = await appOn(dbFile)
  await first.app.ready()
  t.equal(first.app.scheduler.status().lock, 'file', "lock: 'auto' resolves to a file lock on SQLite with a database file")
  const executed = first.app.scheduler.once('job:executed')
  await first.app.scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'cron', expression: '* * * * * *' } })
  const { execution } = await executed
  t.equal(execution.status, 'success')
  t.ok(existsSync(lockFile), 'the file lock is held while running')
  t.equal(first.app.scheduler.status().isLeader, true)
  await first.app.close()
  await first.orm.close()
  t.notOk(existsSync(lockFile), 'the lock file is removed at shutdown')

  const second = await appOn(dbFile)
  t.teardown(async () => { await second.app.close(); await second.orm.close() })
  await second.app.ready()
  t.equal((await second.app.scheduler.getJob('tick'))?.task, 'tick', 'the job survived the restart')
  const history = await second.app.scheduler.getExecutions({ jobId: 'tick' })
  t.ok(history.some((row) => row.id === execution.id && row.status === 'success'), 'so did its execution history')
})

t.test('jobs as ORM rows on SQLite: the host\'s em writes a job that runs, and reads rows back with Dates', async (t) => {
  const orm = await MikroORM.init({ dbName: join(dir, 'orm-rows.db'), entities: [SchedulerJob, SchedulerJobExecution, SchedulerAudit] })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await orm.close() })
  await app.register(schedulerPlugin, { orm, tasks: { work: async () => {} } })
  await app.ready()
  const executed = app.scheduler.once('job:executed', ({ jobId }) => jobId === 'from-orm')
  const em = orm.em.fork()
  const job = em.create(SchedulerJob, { id: 'from-orm', task: 'work', trigger: { type: 'cron', expression: '* * * * * *' } } as never)
  await em.flush()
  t.ok(job.nextRunTime instanceof Date, 'next run time computed on the entity')
  const { execution } = await executed
  const [row] = await orm.em.fork().find(SchedulerJobExecution, { jobId: 'from-orm', runTime: { $lte: new Date(Date.now() + 60_000) } })
  t.ok(row?.runTime instanceof Date && row.startedAt instanceof Date, 'the host reads its execution with Date fields')
  t.equal(row?.runTime.getTime(), execution.runTime.getTime(), 'the same run time the scheduler wrote (epoch ms both ways)')
  const stored = await orm.em.fork().findOneOrFail(SchedulerJob, 'from-orm')
  t.ok(stored.createdAt instanceof Date && Math.abs(stored.createdAt.getTime() - Date.now()) < 60_000, 'created_at is a Date near now')
  t.equal(stored.paused, false, 'booleans read as booleans')
  t.same(stored.args, [], 'json read parsed')
  const audit = await app.scheduler.getAudit({ jobId: 'from-orm' })
  t.same(audit.map((entry) => [entry.action, entry.actor]), [['added', 'orm']], 'the flush wrote its audit row')
})

t.test('a job inserted with plain SQL on SQLite is scheduled and runs once', async (t) => {
  const orm = await MikroORM.init({ dbName: join(dir, 'plain-sql.db'), entities: [SchedulerJob, SchedulerJobExecution] })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await orm.close() })
  const runs: string[] = []
  await app.register(schedulerPlugin, { orm, tasks: { work: async (ctx) => { runs.push(ctx.job.id) } }, pollIntervalMs: 200 })
  await app.ready()
  const executed = app.scheduler.once('job:executed', ({ jobId }) => jobId === 'sql-date')
  const runDate = new Date(Date.now() + 1000).toISOString()
  await orm.em.getConnection().execute(`INSERT INTO scheduler_job (id, name, task, trigger) VALUES ('sql-date', 'sql-date', 'work', '{"type":"date","runDate":"${runDate}"}')`)
  const { execution } = await executed
  t.equal(execution.runTime.toISOString(), runDate, 'it ran at its date')
  const job = await app.scheduler.getJob('sql-date')
  t.equal(job?.version, 2, 'the scheduler wrote its first occurrence once (version 1 -> 2)')
  t.ok(job?.createdAt instanceof Date && Math.abs((job?.createdAt.getTime() ?? 0) - Date.now()) < 60_000, 'created_at from the column default (the process clock, in ms)')
  t.same(runs, ['sql-date'], 'and ran once')
})

t.test('on :memory: there is no file to lock: lock auto resolves to none', async (t) => {
  const { app, orm } = await appOn(':memory:')
  t.teardown(async () => { await app.close(); await orm.close() })
  await app.ready()
  t.equal(app.scheduler.status().lock, 'none')
  const executed = app.scheduler.once('job:executed')
  await app.scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'cron', expression: '* * * * * *' } })
  t.equal((await executed).execution.status, 'success', 'and jobs run')
})

t.test('the plugin refuses a database file that another live process holds, naming it', async (t) => {
  const dbFile = join(dir, 'held.db')
  writeFileSync(`${dbFile}.scheduler.lock`, JSON.stringify({ pid: process.ppid, owner: 'other app' }))
  const orm = await MikroORM.init({ dbName: dbFile, entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const app = Fastify()
  await t.rejects(async () => app.register(schedulerPlugin, { orm }).ready(), { code: 'FST_SCHEDULER_LOCK_HELD', message: new RegExp(`process ${process.ppid} \\(other app\\)`) })
})

t.test("lock: 'advisory' on SQLite is refused at registration, saying what to use", async (t) => {
  const orm = await MikroORM.init({ dbName: ':memory:', entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const app = Fastify()
  await t.rejects(async () => app.register(schedulerPlugin, { orm, lock: 'advisory' }).ready(), {
    code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /lock.*advisory.*SQLite.*lock: 'auto'/
  })
})

t.test("lock: 'advisory' on a SQLite store is refused by start() for a scheduler built without the plugin", async (t) => {
  const orm = await MikroORM.init({ dbName: ':memory:', entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), lock: 'advisory' })
  t.teardown(async () => scheduler.shutdown())
  await t.rejects(scheduler.start(), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /advisory.*SQLite/ })
})

t.test('a schema on SQLite is refused at registration, and by the store', async (t) => {
  const orm = await MikroORM.init({ dbName: ':memory:', entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const app = Fastify()
  await t.rejects(async () => app.register(schedulerPlugin, { orm, schema: 'tenant_a' }).ready(), {
    code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /schema.*SQLite has no schemas/
  })
  await t.rejects(new MikroOrmJobStore(orm, { schema: 'tenant_a' }).initialize(), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /SQLite has no schemas/ })
})

t.test('a remote libSQL database is refused at registration and by the store, its credentials hidden', async (t) => {
  // MikroORM 7 connects lazily: nothing is dialled here.
  const orm = await MikroORM.init({ dbName: 'libsql://user:secret@db.example.invalid', entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const app = Fastify()
  await t.rejects(async () => app.register(schedulerPlugin, { orm }).ready(), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /remote libSQL database \(libsql:\/\/\*\*\*@db\.example\.invalid\) is not supported/ })
  const error = await new MikroOrmJobStore(orm).initialize().then(() => null, (error: Error) => error)
  t.match(error, { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /local file/ })
  t.notMatch(error?.message, /secret/, 'the password is not in the message')
})

t.test('@mikro-orm/sqlite (better-sqlite3) is refused, pointing to @mikro-orm/libsql', async (t) => {
  // The driver is identified by the packages it declares; @mikro-orm/sqlite declares better-sqlite3 (not installed here).
  const orm = { config: { getDriver: () => ({ getDependencies: () => ['kysely', 'better-sqlite3'] }) } } as unknown as CoreMikroORM
  t.throws(() => ormDialect(orm), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /@mikro-orm\/libsql.*native addon/ })
})

t.test('sqliteDatabaseFile: the file of a dbName, none for in-memory or remote databases', async (t) => {
  t.equal(sqliteDatabaseFile('./app.db'), './app.db')
  t.equal(sqliteDatabaseFile('file:/var/data/app.db?mode=rwc'), '/var/data/app.db')
  t.equal(sqliteDatabaseFile('file:///var/data/app.db'), '/var/data/app.db')
  for (const name of [':memory:', '', 'file::memory:?cache=shared', 'libsql://db.example.turso.io', 'http://127.0.0.1:8080', undefined]) {
    t.equal(sqliteDatabaseFile(name), undefined, `none for ${String(name)}`)
  }
})
