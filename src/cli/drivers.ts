/**
 * How the command line opens each database (one entry per dialect of `parseDatabaseUrl`): the
 * MikroORM driver packages it may load, lazily and in order of preference, the options it opens
 * them with, and why `--schema` is refused where there are no schemas. The CLI does not depend on
 * any driver: it loads the one the URL needs, as the host app does, and says which package to
 * install when none is there.
 *
 * | URL | driver packages tried |
 * | --- | --- |
 * | `postgres://`, `postgresql://` | `@mikro-orm/postgresql` |
 * | `mysql://` | `@mikro-orm/mysql`, else `@mikro-orm/mariadb` (either speaks to MySQL and MariaDB) |
 * | `mariadb://` | `@mikro-orm/mariadb` |
 * | `sqlite:<file>`, `file:<file>` | `@mikro-orm/libsql` |
 */
import type { MikroORM } from '@mikro-orm/core'
import type { DatabaseUrl } from '../database-url.js'

/** What the CLI uses of a driver package: its `MikroORM` class. */
interface DriverModule { MikroORM: { init(options: Record<string, unknown>): Promise<MikroORM> } }

/** Imports a package by name; a parameter so tests can stand in for a missing one. */
export type Importer = (name: string) => Promise<unknown>

interface DialectDriver {
  /** The database's name, for messages. */
  label: string
  /** Driver packages, most preferred first, for this URL. */
  packages(target: DatabaseUrl): string[]
  /** `MikroORM.init` options besides the entities. */
  options(target: DatabaseUrl): Record<string, unknown>
  /** Why `--schema` is refused (null: it is taken). */
  schemaRefusal: string | null
}

/** Milliseconds to wait for a server connection before giving up. */
const CONNECT_TIMEOUT_MS = 10_000

const DRIVERS: Record<DatabaseUrl['dialect'], DialectDriver> = {
  postgresql: {
    label: 'PostgreSQL',
    packages: () => ['@mikro-orm/postgresql'],
    options: (target) => ({ clientUrl: urlOf(target), pool: { min: 0, max: 2 }, driverOptions: { connectionTimeoutMillis: CONNECT_TIMEOUT_MS } }),
    schemaRefusal: null
  },
  mysql: {
    label: 'MySQL/MariaDB',
    packages: (target) => target.dialect === 'mysql' && target.scheme === 'mariadb' ? ['@mikro-orm/mariadb'] : ['@mikro-orm/mysql', '@mikro-orm/mariadb'],
    // UTC for anything the ORM itself writes (the scheduler's statements are UTC whatever this says).
    options: (target) => ({ clientUrl: urlOf(target), pool: { min: 0, max: 2 }, forceUtcTimezone: true, driverOptions: { connectTimeout: CONNECT_TIMEOUT_MS } }),
    schemaRefusal: "--schema is a PostgreSQL option: MySQL and MariaDB have no schemas inside a database. Name the app's database in the URL (mysql://user@host:3306/<database>) and leave --schema out"
  },
  sqlite: {
    label: 'SQLite',
    packages: () => ['@mikro-orm/libsql'],
    options: (target) => ({ dbName: target.dialect === 'sqlite' ? target.file : undefined }),
    schemaRefusal: "--schema is a PostgreSQL option: SQLite has no schemas, the scheduler's tables are in the database file itself. Leave --schema out"
  }
}

/** The client URL of a server database (undefined for SQLite, which has a file). */
function urlOf (target: DatabaseUrl): string | undefined {
  return 'url' in target ? target.url : undefined
}

/** Why `--schema NAME` cannot be used on a `dialect` database (no schemas there), or null when it can (or none is given). */
export function schemaRefusal (dialect: DatabaseUrl['dialect'], schema: string | null): string | null {
  return schema === null ? null : DRIVERS[dialect].schemaRefusal
}

/**
 * Loads the first of the dialect's driver packages that imports (see the module table) and
 * returns how to open MikroORM on `target` with it, with the scheduler's entities.
 * @throws Error naming the package(s) to install when none loads.
 */
export async function ormOpener (target: DatabaseUrl, importer: Importer = async (name) => import(name)): Promise<() => Promise<MikroORM>> {
  const driver = DRIVERS[target.dialect]
  const { MikroORM } = await loadDriver(driver.packages(target), target, importer)
  // Loaded here, not at the top: commands that never connect (usage errors, `schema sql`) do not load the ORM.
  const { SchedulerJob, SchedulerJobExecution } = await import('../entities/index.js')
  return async () => MikroORM.init({ ...driver.options(target), entities: [SchedulerJob, SchedulerJobExecution], debug: false })
}

/** The first package of `names` that imports. @throws Error naming them and the install command. */
export async function loadDriver (names: string[], target: DatabaseUrl, importer: Importer): Promise<DriverModule> {
  const failures: string[] = []
  for (const name of names) {
    try {
      return await importer(name) as DriverModule
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`)
    }
  }
  throw new Error(`the command line needs ${names.join(' or ')} (the app's MikroORM driver) for ${DRIVERS[target.dialect].label} URLs such as ${target.shownUrl}: ` +
    `npm install ${names[names.length - 1] as string} (${failures.join('; ')})`)
}
