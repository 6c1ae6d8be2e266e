/**
 * `install: 'migrations'` on MariaDB: the host's MikroORM migrator runs `schedulerMigrations` (the
 * same migration names as on PostgreSQL, carrying MySQL's DDL), the store then starts without
 * running any DDL, and `down` to the start drops every table. Also the single `SchedulerMigration`.
 */
import { Migrator } from '@mikro-orm/migrations'
import { MikroORM } from '@mikro-orm/mariadb'
import t from 'tap'
import { SCHEMA_VERSIONS, schedulerEntities } from '../../src/index.js'
import { SchedulerMigration, schedulerMigrations } from '../../src/migration.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { newJob } from '../stores/contract.js'
import { freshMariadbDatabase, mariadbQuery } from '../helpers/mariadb.js'

async function tables (url: string): Promise<string[]> {
  const rows = await mariadbQuery<{ name: string }>(url, "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'scheduler\\_%' ORDER BY TABLE_NAME")
  return rows.map((row) => row.name)
}

t.test('schedulerMigrations up, the store in migrations mode, then down to nothing', async (t) => {
  const url = await freshMariadbDatabase(t, 'migrations')
  const orm = await MikroORM.init({
    clientUrl: url, entities: [...schedulerEntities], extensions: [Migrator], pool: { min: 0, max: 2 },
    migrations: { migrationsList: [...schedulerMigrations], snapshot: false, silent: true }
  })
  t.teardown(async () => orm.close(true))
  const before = await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize().then(() => null, (error: Error) => error)
  t.match(before, { code: 'FST_SCHEDULER_SCHEMA_OUTDATED', message: /Migration20261201000000_scheduler_initial.*missing: scheduler_job\.id, scheduler_job\.name/ }, 'before the migrations the store refuses to start, naming the first migration')
  await orm.migrator.up()
  const executed = await orm.migrator.getExecuted()
  t.same(executed.map((row) => row.name), SCHEMA_VERSIONS.map((version) => version.name), 'every version recorded under its PostgreSQL name')
  t.same(await tables(url), ['scheduler_audit', 'scheduler_change', 'scheduler_job', 'scheduler_job_execution', 'scheduler_leader', 'scheduler_node'])
  const store = new MikroOrmJobStore(orm, { install: 'migrations' })
  await store.initialize()
  t.equal((await store.addJob(newJob('migrated'))).id, 'migrated', 'the store works on the migrated tables')
  await orm.migrator.down({ to: 0 })
  t.same(await tables(url), [], 'down to the start drops every table')
})

t.test('the single SchedulerMigration creates and drops the MySQL tables', async (t) => {
  const url = await freshMariadbDatabase(t, 'single_migration')
  const orm = await MikroORM.init({
    clientUrl: url, entities: [...schedulerEntities], extensions: [Migrator], pool: { min: 0, max: 2 },
    migrations: { migrationsList: [{ name: 'SchedulerMigration', class: SchedulerMigration }], snapshot: false, silent: true }
  })
  t.teardown(async () => orm.close(true))
  await orm.migrator.up()
  await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize()
  t.equal((await tables(url)).length, 6)
  await orm.migrator.down({ to: 0 })
  t.same(await tables(url), [])
})
