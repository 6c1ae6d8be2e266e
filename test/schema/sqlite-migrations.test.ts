/**
 * `install: 'migrations'` on SQLite: the shipped migrations create the same schema as the plugin's
 * own install (compared object by object in `sqlite_master`), the store's check accepts it and
 * names the first missing version otherwise, and `down` removes every table.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MikroORM } from '@mikro-orm/libsql'
import { Migrator } from '@mikro-orm/migrations'
import t, { type Test } from 'tap'
import { schedulerEntities } from '../../src/entities/index.js'
import { SchedulerMigration, schedulerMigrations } from '../../src/schema/migration.js'
import { SCHEDULER_TABLES } from '../../src/schema/tables.js'
import { SCHEMA_VERSIONS } from '../../src/schema/versions.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'

const dir = await mkdtemp(join(tmpdir(), 'fms-sqlite-migrations-'))
t.teardown(async () => rm(dir, { recursive: true, force: true }))
let files = 0

async function openOrm (t: Test, migrationsList = [...schedulerMigrations]): Promise<MikroORM> {
  const orm = await MikroORM.init({
    dbName: join(dir, `m-${++files}.db`), entities: [...schedulerEntities], extensions: [Migrator],
    migrations: { migrationsList, snapshot: false, silent: true }
  })
  t.teardown(async () => orm.close(true))
  return orm
}

/** Every object of ours in `sqlite_master`, name → SQL (whitespace collapsed). */
async function schemaOf (orm: MikroORM): Promise<Record<string, string>> {
  const rows = await orm.em.getConnection().execute<Array<{ name: string, sql: string | null }>>(
    "SELECT name, sql FROM sqlite_master WHERE tbl_name LIKE 'scheduler%' AND sql IS NOT NULL ORDER BY name")
  return Object.fromEntries(rows.map((row) => [row.name, String(row.sql).replace(/\s+/g, ' ')]))
}

t.test('the shipped migrations create the schema the plugin installs; the store accepts it', async (t) => {
  const installed = await openOrm(t)
  await new MikroOrmJobStore(installed).initialize()
  const migrated = await openOrm(t)
  const applied = await migrated.migrator.up()
  t.same(applied.map((migration) => migration.name), SCHEMA_VERSIONS.map((version) => version.name), 'every version ran, in order')
  const expected = await schemaOf(installed)
  t.ok(Object.keys(expected).length >= 5 + 7, `the install made ${Object.keys(expected).length} tables and indexes`)
  t.same(await schemaOf(migrated), expected, 'the migrations made the same objects')

  const store = new MikroOrmJobStore(migrated, { install: 'migrations' })
  await store.initialize()
  t.equal(store.sql.dialect, 'sqlite', 'install: migrations accepts the migrated schema')

  await migrated.migrator.down({ to: 0 })
  const left = await migrated.em.getConnection().execute<Array<{ name: string }>>(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${SCHEDULER_TABLES.map((table) => `'${table}'`).join(', ')})`)
  t.same(left, [], 'down removed every scheduler table')
})

t.test('install: migrations names the first version missing', async (t) => {
  const orm = await openOrm(t)
  await t.rejects(new MikroOrmJobStore(orm, { install: 'migrations' }).initialize(), {
    code: 'FST_SCHEDULER_SCHEMA_OUTDATED', message: new RegExp(SCHEMA_VERSIONS[0]!.name)
  }, 'no tables: the first version')
  await orm.migrator.up()
  await orm.em.getConnection().execute('DROP INDEX scheduler_job_execution_queued_idx')
  await t.rejects(new MikroOrmJobStore(orm, { install: 'migrations' }).initialize(), {
    code: 'FST_SCHEDULER_SCHEMA_OUTDATED', message: new RegExp(`migration '${SCHEMA_VERSIONS.find((version) => version.name.endsWith('_scheduler_distributed'))!.name}'`)
  }, 'the queued-runs index missing: the seventh version (distributed execution)')
  await new MikroOrmJobStore(orm).initialize()
  await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize()
  t.pass("install: 'auto' puts the index back, and the check passes")
})

t.test('the single SchedulerMigration of earlier releases runs on SQLite too', async (t) => {
  const orm = await openOrm(t, [{ name: 'SchedulerMigration', class: SchedulerMigration }])
  await orm.migrator.up()
  await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize()
  t.pass('the store accepts the schema it made')
  await orm.migrator.down({ to: 0 })
  const [row] = await orm.em.getConnection().execute<Array<{ n: number }>>("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'scheduler%'")
  t.equal(row?.n, 0, 'and down drops it all')
})

t.test("the host's schema tools leave the scheduler's tables alone on SQLite with skipTables", async (t) => {
  // The entities' column types are PostgreSQL's (timestamptz, jsonb): on SQLite, schema:update would
  // rebuild every table in PostgreSQL's DDL. The README's advice for SQLite: skipTables.
  const orm = await MikroORM.init({
    dbName: join(dir, `m-${++files}.db`), entities: [...schedulerEntities], schemaGenerator: { skipTables: [...SCHEDULER_TABLES] }
  })
  t.teardown(async () => orm.close(true))
  await new MikroOrmJobStore(orm).initialize()
  t.equal((await orm.schema.getUpdateSchemaSQL()).trim(), '', 'schema:update proposes nothing')
})
