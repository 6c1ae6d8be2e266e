/**
 * Picks the `SqlClient` adapter for a host's MikroORM instance by its driver.
 */
import type { MikroORM } from '@mikro-orm/core'
import { InvalidOptionsError } from '../errors.js'
import { createPgClient, type PgPoolLike } from './pg-client.js'
import { createPgliteClient, type PgliteLike } from './pglite-client.js'
import { createMysqlClient, type MysqlPoolLike } from './mysql-client.js'
import { MYSQL_CHANGE_FEED } from '../stores/mysql/change-counter.js'
import type { SqlClient } from './sql-client.js'
import { createSqliteClient, type ConnectionHolder, type LibsqlDatabaseLike } from './sqlite-client.js'

/**
 * Which database the ORM talks to: `postgresql` (the `pg` driver), `pglite` (embedded), `mysql`
 * (`@mikro-orm/mysql` and `@mikro-orm/mariadb`, both on `mysql2`) or `sqlite` (`@mikro-orm/libsql`).
 * Read from the native packages the driver declares (`driver.getDependencies()`: `pg`,
 * `@electric-sql/pglite`, `mysql2`, `mariadb` or `libsql`), not from class names, which bundlers and
 * minifiers rename. Takes the ORM, or one of its EntityManagers (`em.config`).
 * @throws InvalidOptionsError for any other driver; for `@mikro-orm/sqlite` (`better-sqlite3`), one
 *   that says to use `@mikro-orm/libsql` instead, and why.
 */
export function ormDialect (orm: Pick<MikroORM, 'config'>): SqlClient['dialect'] {
  const dependencies = orm.config.getDriver().getDependencies()
  if (dependencies.includes('@electric-sql/pglite')) return 'pglite'
  if (dependencies.includes('pg')) return 'postgresql'
  if (dependencies.includes('mysql2') || dependencies.includes('mariadb')) return 'mysql'
  if (dependencies.includes('libsql')) return 'sqlite'
  if (dependencies.includes('better-sqlite3')) {
    throw new InvalidOptionsError('orm', 'SQLite is supported through @mikro-orm/libsql, not @mikro-orm/sqlite: better-sqlite3 is a native addon built by npm for the Node.js that installs it (a mismatch crashes at load), while libsql ships prebuilt binaries as npm packages. Install @mikro-orm/libsql and use its MikroORM with the same dbName')
  }
  throw new InvalidOptionsError('orm', `a driver using ${dependencies.join(', ') || 'no known client'} is not supported; use @mikro-orm/postgresql, @mikro-orm/pglite, @mikro-orm/mysql, @mikro-orm/mariadb or @mikro-orm/libsql`)
}

/** A libSQL `dbName` that names a server (Turso, `sqld`), not a file. */
const REMOTE_LIBSQL = /^(libsql|https?|wss?):\/\//i

/**
 * Refuses a libSQL ORM whose `dbName` is a remote URL: the SQLite store's guarantees rest on one
 * process owning a local file (its file lock, `BEGIN IMMEDIATE` on the one connection), and the
 * driver replaces remote connections as it goes. No-op for other drivers.
 * @throws InvalidOptionsError for a `libsql://`, `http(s)://` or `ws(s)://` dbName.
 */
export function assertLocalSqlite (orm: Pick<MikroORM, 'config'>): void {
  const dbName = orm.config.get('dbName')
  if (ormDialect(orm) === 'sqlite' && typeof dbName === 'string' && REMOTE_LIBSQL.test(dbName)) {
    throw new InvalidOptionsError('orm', `a remote libSQL database (${dbName.replace(/\/\/[^@/]*@/, '//***@')}) is not supported: the SQLite store needs a local file owned by one process (or :memory:); use a file path as dbName, or PostgreSQL for several processes`)
  }
}

/**
 * Returns a `SqlClient` over the ORM's own connection pool (no second pool is opened).
 * @throws InvalidOptionsError when the ORM uses another driver than PostgreSQL, PGlite, MySQL,
 *   MariaDB or libSQL, or libSQL on a remote database ({@link assertLocalSqlite}).
 */
export async function sqlClientFromOrm (orm: MikroORM): Promise<SqlClient> {
  const dialect = ormDialect(orm)
  assertLocalSqlite(orm)
  const connection = orm.em.getConnection()
  const native = await connection.getNativeClient()
  switch (dialect) {
    case 'pglite': return createPgliteClient(native as PgliteLike)
    case 'postgresql': return createPgClient(native as PgPoolLike)
    case 'mysql': return createMysqlClient(native as MysqlPoolLike, { changeFeed: MYSQL_CHANGE_FEED })
    case 'sqlite': return createSqliteClient(native as LibsqlDatabaseLike, (connection as unknown as { getClient(): ConnectionHolder }).getClient())
  }
}
