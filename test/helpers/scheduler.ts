/**
 * Builds a `Scheduler` on a fresh database, shut down at the end of the test: `schedulerOn` on any
 * server of `SERVER_DATABASES`, `schedulerOnPostgres` on PostgreSQL only.
 */
import type { MikroORM as CoreMikroORM } from '@mikro-orm/core'
import type { MikroORM } from '@mikro-orm/postgresql'
import type { SchedulerOptions } from '../../src/options.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm } from './database.js'
import type { TestDatabase } from './test-databases.js'

interface TestLike { teardown(fn: () => unknown): void }

export interface SchedulerSetup {
  scheduler: Scheduler
  orm: MikroORM
  url: string
}

/** A scheduler (not started) on its own database; `options` override the test defaults. */
export async function schedulerOnPostgres (t: TestLike, label: string, options: Partial<SchedulerOptions> = {}, url?: string): Promise<SchedulerSetup> {
  const databaseUrl = url ?? await freshDatabase(t, label)
  const orm = await openOrm(t, databaseUrl)
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), orm, pollIntervalMs: 30_000, ...options })
  t.teardown(async () => scheduler.shutdown())
  return { scheduler, orm, url: databaseUrl }
}

export interface ServerSchedulerSetup {
  scheduler: Scheduler
  orm: CoreMikroORM
  url: string
}

/**
 * A scheduler (not started) on its own database on `db` (PostgreSQL or MariaDB, see
 * `SERVER_DATABASES`), or on `url` of that server; `options` override the test defaults.
 */
export async function schedulerOn (db: TestDatabase, t: TestLike, label: string, options: Partial<SchedulerOptions> = {}, url?: string): Promise<ServerSchedulerSetup> {
  const databaseUrl = url ?? await db.fresh(t, label)
  const orm = await db.openOrm(t, databaseUrl)
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), orm, pollIntervalMs: 30_000, ...options })
  t.teardown(async () => scheduler.shutdown())
  return { scheduler, orm, url: databaseUrl }
}
