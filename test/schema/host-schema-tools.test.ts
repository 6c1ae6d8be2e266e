/**
 * The host's MikroORM schema tools leave the scheduler's tables alone: with `schedulerEntities`
 * listed, `getUpdateSchemaSQL()` and `migration:create` propose nothing for them, however they
 * were installed (by the plugin, by the shipped migrations, by the previous release of the
 * library, or by MikroORM itself from the entities); without the entities, `skipTables` does the
 * same, and the control case shows what happens with neither.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Migrator } from '@mikro-orm/migrations'
import { MikroORM, defineEntity, p, type Options } from '@mikro-orm/postgresql'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { SCHEDULER_TABLES, schedulerEntities, schedulerPlugin } from '../../src/index.js'
import { schedulerMigrations } from '../../src/migration.js'
import { freshDatabase, query } from '../helpers/database.js'
import { PREVIOUS_RELEASE_DDL } from './fixtures/previous-release.js'


/** An entity of the host's own, beside which the scheduler's tables live. */
const Note = defineEntity({ name: 'Note', tableName: 'note', properties: { id: p.integer().primary(), body: p.text() } })

/** What every host ORM of this file shares: the migrator, diffing against the live database (no snapshot). */
const hostOptions = { pool: { min: 0, max: 3 }, extensions: [Migrator], migrations: { snapshot: false, silent: true } } satisfies Partial<Options>

async function openHostOrm (t: Test, url: string, options: Partial<Options> = {}): Promise<MikroORM> {
  const orm = await MikroORM.init({ clientUrl: url, entities: [Note, ...schedulerEntities], ...hostOptions, ...options })
  t.teardown(async () => orm.close(true))
  return orm
}

/** Starts the plugin on `orm` once (installing or upgrading the tables), runs one job, and closes. */
async function runSchedulerOnce (t: Test, orm: MikroORM): Promise<void> {
  const app = Fastify()
  let runs = 0
  await app.register(schedulerPlugin, { orm, tasks: { work: async () => { runs++ } }, pollIntervalMs: 1000 })
  await app.ready()
  const executed = app.scheduler.once('job:executed', ({ jobId }) => jobId === 'once')
  await app.scheduler.addJob({ id: 'once', task: 'work', trigger: { type: 'date', runDate: new Date().toISOString() } })
  await executed
  await app.close()
  t.equal(runs, 1, 'the scheduler ran a job on these tables')
}

/** The statements MikroORM proposes for `orm`'s entities against the live database. */
async function updateSql (orm: MikroORM): Promise<string> {
  return (await orm.schema.getUpdateSchemaSQL()).trim()
}

async function assertNoDiff (t: Test, orm: MikroORM, how: string): Promise<void> {
  await orm.schema.update() // the host's own table (note); must leave ours as they are
  t.equal(await updateSql(orm), '', `schema:update proposes nothing after install ${how}`)
  const path = mkdtempSync(join(tmpdir(), 'fms-migrations-'))
  t.teardown(() => rmSync(path, { recursive: true, force: true }))
  const created = await orm.migrator.create(path, false, false)
  t.same(created.diff.up, [], `migration:create proposes nothing after install ${how}`)
  t.same(readdirSync(path).filter((file) => file.endsWith('.ts') || file.endsWith('.js')), [], 'and writes no migration file')
}

t.test('installed by the plugin', async (t) => {
  const url = await freshDatabase(t, 'diff_plugin')
  const orm = await openHostOrm(t, url)
  await runSchedulerOnce(t, orm)
  await assertNoDiff(t, orm, 'by the plugin')
})

t.test('installed by the shipped migrations, which also run down', async (t) => {
  const url = await freshDatabase(t, 'diff_migrations')
  const orm = await openHostOrm(t, url, { migrations: { migrationsList: [...schedulerMigrations], snapshot: false, silent: true } })
  const applied = await orm.migrator.up()
  t.same(applied.map((migration) => migration.name), schedulerMigrations.map((migration) => migration.name), 'every scheduler migration ran, in order')
  await assertNoDiff(t, orm, 'by the migrations')
  await runSchedulerOnce(t, orm)
  t.equal(await updateSql(orm), '', 'still nothing after the plugin started on them')

  await orm.migrator.down({ to: 0 })
  const left = await query(url, 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)', [[...SCHEDULER_TABLES]])
  t.same(left, [], 'down removed every scheduler table')
})

t.test('installed by the previous release (d7a456a), then upgraded by the plugin', async (t) => {
  const url = await freshDatabase(t, 'diff_previous')
  await query(url, PREVIOUS_RELEASE_DDL)
  await query(url, `INSERT INTO scheduler_job (id, name, task, trigger, next_run_time) VALUES ('old', 'old', 'work', '{"type":"interval","seconds":3600,"version":1}', now() + interval '1 hour')`)
  const orm = await openHostOrm(t, url)
  await runSchedulerOnce(t, orm)
  await assertNoDiff(t, orm, 'by the previous release')
  t.equal((await query(url, "SELECT id FROM scheduler_job WHERE id = 'old'")).length, 1, 'the job of the previous release is kept')
})

t.test('created by MikroORM from the entities (a host\'s schema:create), then used by the plugin', async (t) => {
  const url = await freshDatabase(t, 'diff_entities')
  const orm = await openHostOrm(t, url)
  await orm.schema.create()
  t.equal(await updateSql(orm), '', 'nothing to do right after schema:create')
  await runSchedulerOnce(t, orm)
  await assertNoDiff(t, orm, 'by MikroORM, after the plugin started')
})

t.test('a host that does not list the entities keeps the tools off with skipTables', async (t) => {
  const url = await freshDatabase(t, 'diff_skip')
  const installer = await openHostOrm(t, url)
  await runSchedulerOnce(t, installer)
  await query(url, "INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('history', now(), 'success')")

  const unguarded = await MikroORM.init({ clientUrl: url, entities: [Note], ...hostOptions })
  t.teardown(async () => unguarded.close(true))
  const control = await updateSql(unguarded)
  for (const table of SCHEDULER_TABLES) t.match(control, `drop table if exists "${table}"`, `control: without skipTables MikroORM would drop ${table}`)

  const guarded = await MikroORM.init({ clientUrl: url, entities: [Note], ...hostOptions, schemaGenerator: { skipTables: [...SCHEDULER_TABLES] } })
  t.teardown(async () => guarded.close(true))
  await assertNoDiff(t, guarded, 'by the plugin, for a host with skipTables')
  t.equal((await query(url, "SELECT id FROM scheduler_job_execution WHERE job_id = 'history'")).length, 1, 'the execution history is intact')
})
