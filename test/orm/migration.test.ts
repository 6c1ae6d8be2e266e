/**
 * The `fastify-mikro-scheduler/migration` entry, used the way a host uses it: imported by its
 * package name (which resolves through package.json `exports` to the built `dist/migration.js`,
 * so the package is built first) and run by MikroORM's own Migrator on PostgreSQL: the list of
 * schema versions (`schedulerMigrations`) and the single `SchedulerMigration` of earlier releases,
 * each `up`, `down` and `up` again. The source module (src/migration.ts) runs the same checks, so
 * its lines count for the coverage measured on src/.
 */
import { MikroORM } from '@mikro-orm/postgresql'
import { Migrator } from '@mikro-orm/migrations'
import t from 'tap'
import { SchedulerJob } from '../../src/entities/scheduler-job.js'
import { SchedulerJobExecution } from '../../src/entities/scheduler-job-execution.js'
import { buildPackage } from '../helpers/build.js'
import { freshDatabase, query } from '../helpers/database.js'

const TABLES = ['scheduler_job', 'scheduler_job_execution']

async function schedulerTables (url: string): Promise<string[]> {
  const rows = await query<{ name: string }>(url, `select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_name like 'scheduler%' order by 1`)
  return rows.map((row) => row.name)
}

type Entry = typeof import('../../src/migration.js')
const entries: Array<[string, () => Promise<Entry>]> = [
  ['fastify-mikro-scheduler/migration (the built package, by name)', async () => import('fastify-mikro-scheduler/migration')],
  ['src/migration.ts', async () => import('../../src/migration.js')]
]

t.before(buildPackage)

t.test('the package name resolves through package.json exports to the built entry', async (t) => {
  t.match(import.meta.resolve('fastify-mikro-scheduler/migration'), /\/dist\/migration\.js$/)
})

for (const [label, load] of entries) {
  for (const list of ['schedulerMigrations', 'SchedulerMigration'] as const) {
    t.test(`${label}, ${list}: up creates the tables, down drops them, through MikroORM's Migrator`, async (t) => {
      const entry = await load()
      const migrationsList = list === 'schedulerMigrations' ? [...entry.schedulerMigrations] : [{ name: 'SchedulerMigration', class: entry.SchedulerMigration }]
      const names = migrationsList.map((migration) => migration.name)
      t.ok(names.length > 0, `the entry exports ${list} (${names.join(', ')})`)
      const url = await freshDatabase(t, 'migration')
      const orm = await MikroORM.init({
        clientUrl: url,
        entities: [SchedulerJob, SchedulerJobExecution],
        extensions: [Migrator],
        migrations: { migrationsList, snapshot: false },
        pool: { min: 0, max: 2 }
      })
      t.teardown(async () => orm.close(true))

      t.same(await schedulerTables(url), [], 'an empty database to start with')
      const up = await orm.migrator.up()
      t.same(up.map((migration) => migration.name), names, 'up runs every migration of the list')
      const tables = await schedulerTables(url)
      for (const table of TABLES) t.ok(tables.includes(table), `up created ${table}`, { tables })
      t.same((await query<{ name: string }>(url, 'select name from mikro_orm_migrations order by id')).map((row) => row.name), names, 'the Migrator recorded them as executed')
      t.same(await orm.migrator.getPending(), [], 'nothing pending after up')

      const down = await orm.migrator.down({ to: 0 })
      t.same(down.map((migration) => migration.name), [...names].reverse(), 'down reverts them, newest first')
      t.same(await schedulerTables(url), [], 'down dropped every scheduler table')

      // Up again: the migrations are repeatable after a down.
      await orm.migrator.up()
      const again = await schedulerTables(url)
      t.same(TABLES.filter((table) => again.includes(table)), TABLES, 'up after down creates them again')
    })
  }
}
