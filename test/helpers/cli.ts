/**
 * The command line's tests: the built bin run as a user runs it, and the databases it is tested on
 * behind one shape (PostgreSQL, MariaDB and a SQLite file in a temporary directory), so a test
 * body is written once and runs on each: a fresh database and its CLI URL, a one-off query for
 * assertions on the tables (`?` placeholders; a Date bound as each database stores it), and the
 * host app: a scheduler on its own ORM, as the plugin would build it (on SQLite holding the file's
 * lock, as `lock: 'auto'` does).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MikroORM } from '@mikro-orm/core'
import Database from 'libsql'
import { ROOT } from './build.js'
import { MARIADB, POSTGRESQL } from './test-databases.js'
import { embeddedLockPath } from '../../src/embedded.js'
import { schedulerEntities } from '../../src/entities/index.js'
import type { SchedulerOptions } from '../../src/options.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'

interface Teardown { teardown(fn: () => unknown): void }

export interface CliRun { code: number, stdout: string, stderr: string }

/** Runs the built bin (`dist/cli/bin.js`) in `cwd` (default the repository); no DATABASE_URL unless `env` gives one. */
export async function cli (args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  const { DATABASE_URL: _ignored, NODE_OPTIONS: _none, ...base } = process.env
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/cli/bin.js'), ...args], { env: { ...base, ...env }, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

export interface CliDatabase {
  name: 'postgresql' | 'mariadb' | 'sqlite'
  /** An empty database (on SQLite an empty file), removed at the end of `t`: its URL as the command line takes it. */
  fresh(t: Teardown, label: string): Promise<string>
  /** One statement with `?` placeholders on a short-lived connection. */
  query<Row = Record<string, any>>(url: string, text: string, values?: unknown[]): Promise<Row[]>
  /** The host app: a scheduler (not started) on its own ORM on `url`, shut down at the end of `t`. */
  app(t: Teardown, url: string, options?: Partial<SchedulerOptions>): Promise<Scheduler>
}

/** The app's defaults: the CLI's writes reach a SQLite app at its next poll, so poll every second. */
const APP_OPTIONS = { pollIntervalMs: 1000 }

async function appOn (t: Teardown, orm: MikroORM, options: Partial<SchedulerOptions>): Promise<Scheduler> {
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), orm, ...APP_OPTIONS, ...options })
  t.teardown(async () => scheduler.shutdown())
  return scheduler
}

const SERVERS: CliDatabase[] = [POSTGRESQL, MARIADB].map((db) => ({
  name: db.name,
  fresh: async (t, label) => db.fresh(t, label),
  query: async (url, text, values) => db.query(url, text, values),
  app: async (t, url, options = {}) => appOn(t, await db.openOrm(t, url), options)
}))

/** The SQLite file of a `sqlite:` URL. */
export const sqliteFileOf = (url: string): string => url.slice('sqlite:'.length)

export const SQLITE: CliDatabase = {
  name: 'sqlite',
  fresh: async (t, label) => {
    const dir = await mkdtemp(join(tmpdir(), `fms-cli-${label}-`))
    t.teardown(async () => rm(dir, { recursive: true, force: true }))
    // An empty file is an empty SQLite database, as a fresh server database is empty.
    await writeFile(join(dir, 'app.db'), '')
    return `sqlite:${join(dir, 'app.db')}`
  },
  query: async <Row>(url: string, text: string, values: unknown[] = []) => {
    const db = new Database(sqliteFileOf(url))
    try {
      const statement = db.prepare(text)
      const bound = values.map((value) => value instanceof Date ? value.getTime() : typeof value === 'boolean' ? Number(value) : value)
      return (statement.reader ? statement.all(bound) : (statement.run(bound), [])) as Row[]
    } finally {
      db.close()
    }
  },
  app: async (t, url, options = {}) => {
    const { MikroORM } = await import('@mikro-orm/libsql')
    const orm = await MikroORM.init({ dbName: sqliteFileOf(url), entities: [...schedulerEntities] })
    t.teardown(async () => orm.close(true))
    return appOn(t, orm as unknown as MikroORM, { lock: 'file', lockFile: embeddedLockPath(sqliteFileOf(url)), ...options })
  }
}

/** Every database the command line is tested on. */
export const CLI_DATABASES: readonly CliDatabase[] = [...SERVERS, SQLITE]
