/**
 * Picks the `SqlClient` adapter for a host's MikroORM instance by its driver.
 */
import type { MikroORM } from '@mikro-orm/core'
import { InvalidOptionsError } from '../errors.js'
import { createPgClient, type PgPoolLike } from './pg-client.js'
import { createPgliteClient, type PgliteLike } from './pglite-client.js'
import type { SqlClient } from './sql-client.js'

/**
 * Which database the ORM talks to: `postgresql` (the `pg` driver) or `pglite` (embedded). Read from
 * the native packages the driver declares (`driver.getDependencies()`: `pg` or
 * `@electric-sql/pglite`), not from class names, which bundlers and minifiers rename.
 * @throws InvalidOptionsError for any other driver.
 */
export function ormDialect (orm: MikroORM): 'postgresql' | 'pglite' {
  const dependencies = orm.config.getDriver().getDependencies()
  if (dependencies.includes('@electric-sql/pglite')) return 'pglite'
  if (dependencies.includes('pg')) return 'postgresql'
  throw new InvalidOptionsError('orm', `a driver using ${dependencies.join(', ') || 'no known client'} is not supported; use @mikro-orm/postgresql or @mikro-orm/pglite`)
}

/**
 * Returns a `SqlClient` over the ORM's own connection pool (no second pool is opened).
 * @throws InvalidOptionsError when the ORM uses another driver than PostgreSQL or PGlite.
 */
export async function sqlClientFromOrm (orm: MikroORM): Promise<SqlClient> {
  const dialect = ormDialect(orm)
  const native = await orm.em.getConnection().getNativeClient()
  return dialect === 'pglite'
    ? createPgliteClient(native as PgliteLike)
    : createPgClient(native as PgPoolLike)
}
