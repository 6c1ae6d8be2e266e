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

/**
 * Which database the ORM talks to: `postgresql` (the `pg` driver), `pglite` (embedded) or `mysql`
 * (`@mikro-orm/mysql` and `@mikro-orm/mariadb`, both on `mysql2`). Read from the native packages
 * the driver declares (`driver.getDependencies()`: `pg`, `@electric-sql/pglite`, `mysql2` or
 * `mariadb`), not from class names, which bundlers and minifiers rename.
 * @throws InvalidOptionsError for any other driver.
 */
export function ormDialect (orm: MikroORM): SqlClient['dialect'] {
  const dependencies = orm.config.getDriver().getDependencies()
  if (dependencies.includes('@electric-sql/pglite')) return 'pglite'
  if (dependencies.includes('pg')) return 'postgresql'
  if (dependencies.includes('mysql2') || dependencies.includes('mariadb')) return 'mysql'
  throw new InvalidOptionsError('orm', `a driver using ${dependencies.join(', ') || 'no known client'} is not supported; use @mikro-orm/postgresql, @mikro-orm/pglite, @mikro-orm/mysql or @mikro-orm/mariadb`)
}

/**
 * Returns a `SqlClient` over the ORM's own connection pool (no second pool is opened).
 * @throws InvalidOptionsError when the ORM uses another driver than PostgreSQL, PGlite, MySQL or MariaDB.
 */
export async function sqlClientFromOrm (orm: MikroORM): Promise<SqlClient> {
  const dialect = ormDialect(orm)
  const native = await orm.em.getConnection().getNativeClient()
  switch (dialect) {
    case 'pglite': return createPgliteClient(native as PgliteLike)
    case 'postgresql': return createPgClient(native as PgPoolLike)
    case 'mysql': return createMysqlClient(native as MysqlPoolLike, { changeFeed: MYSQL_CHANGE_FEED })
  }
}
