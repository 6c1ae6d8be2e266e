/**
 * Opens the ORM: PostgreSQL or MySQL/MariaDB when `DATABASE_URL` is such a URL (by its scheme),
 * SQLite (`@mikro-orm/libsql`) when it is `sqlite:<file>`, else embedded PGlite under `DATA_DIR`.
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
  if (config.databaseUrl !== null && isMysqlUrl(config.databaseUrl)) {
    // MariaDB's driver speaks to MySQL too. UTC for the app's own em writes (the scheduler's
    // statements are UTC whatever this says).
    const { MikroORM } = await import('@mikro-orm/mariadb')
    return MikroORM.init({ clientUrl: config.databaseUrl.replace(/^mariadb:/, 'mysql:'), entities, pool: { min: 0, max: 5 }, forceUtcTimezone: true })
  }
  if (config.databaseUrl !== null) {
    const { MikroORM } = await import('@mikro-orm/postgresql')
    return MikroORM.init({ clientUrl: config.databaseUrl, entities, pool: { min: 0, max: 5 } })
  }
  if (config.sqliteFile !== null) {
    // One process owns a SQLite file: take its lock (`<file>.scheduler.lock`) before opening it, as for PGlite.
    await lockEmbeddedDatabase(config.sqliteFile, `example app, pid ${process.pid}`)
    const { MikroORM } = await import('@mikro-orm/libsql')
    return MikroORM.init({ dbName: config.sqliteFile, entities })
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

function isMysqlUrl (url: string): boolean {
  return /^(mysql|mariadb):\/\//.test(url)
}
