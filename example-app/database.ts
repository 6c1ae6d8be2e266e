/**
 * Opens the ORM: PostgreSQL or MySQL/MariaDB when `DATABASE_URL` is such a URL (by its scheme),
 * SQLite (`@mikro-orm/libsql`) when it is `sqlite:<file>` or `file:<file>`, else embedded PGlite under `DATA_DIR`.
 * The host lists the scheduler's entities next to its own so it can query them with its `em`.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { MikroORM } from '@mikro-orm/core'
import { lockEmbeddedDatabase, SchedulerJob, SchedulerJobExecution } from 'fastify-mikro-scheduler'
import type { Config } from './config.ts'
import { MINUTE_REPORT_DDL, MINUTE_REPORT_MYSQL_DDL, MINUTE_REPORT_SQLITE_DDL, MinuteReport } from './entities/minute-report.ts'

const entities = [SchedulerJob, SchedulerJobExecution, MinuteReport]

export async function openDatabase (config: Config): Promise<MikroORM> {
  const { database } = config
  if (database?.dialect === 'mysql') {
    // MariaDB's driver speaks to MySQL too (`database.url` is mysql:// for a mariadb:// URL). UTC
    // for the app's own em writes (the scheduler's statements are UTC whatever this says).
    const { MikroORM } = await import('@mikro-orm/mariadb')
    return MikroORM.init({ clientUrl: database.url, entities, pool: { min: 0, max: 5 }, forceUtcTimezone: true })
  }
  if (database?.dialect === 'postgresql') {
    const { MikroORM } = await import('@mikro-orm/postgresql')
    return MikroORM.init({ clientUrl: database.url, entities, pool: { min: 0, max: 5 } })
  }
  if (database?.dialect === 'sqlite') {
    // One process owns a SQLite file: take its lock (`<file>.scheduler.lock`) before opening it, as for PGlite.
    await lockEmbeddedDatabase(database.file, `example app, pid ${process.pid}`)
    const { MikroORM } = await import('@mikro-orm/libsql')
    return MikroORM.init({ dbName: database.file, entities })
  }
  // PGlite keeps the cluster in a directory that only one process may open: take its lock file
  // (`<dir>.scheduler.lock`, also the scheduler's leader lock) before the ORM opens it, so a second
  // process fails here, naming the first, instead of touching the data.
  await mkdir(config.dataDir, { recursive: true })
  const dataDir = join(config.dataDir, 'pglite')
  await lockEmbeddedDatabase(dataDir, `example app, pid ${process.pid}`)
  const { MikroORM } = await import('@mikro-orm/pglite')
  return MikroORM.init({ dbName: dataDir, entities })
}

/** Creates the example's own tables (the scheduler creates its tables itself). */
export async function createExampleTables (orm: MikroORM): Promise<void> {
  const dependencies = orm.config.getDriver().getDependencies()
  const ddl = dependencies.includes('mysql2') ? MINUTE_REPORT_MYSQL_DDL : dependencies.includes('libsql') ? MINUTE_REPORT_SQLITE_DDL : MINUTE_REPORT_DDL
  await orm.em.getConnection().execute(ddl)
}
