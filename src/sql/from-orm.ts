/**
 * Picks the `SqlClient` adapter for a host's MikroORM instance by its driver.
 */
import type { MikroORM } from '@mikro-orm/core'
import { InvalidOptionsError } from '../errors.js'
import { createPgClient, type PgPoolLike } from './pg-client.js'
import { createPgliteClient, type PgliteLike } from './pglite-client.js'
import type { SqlClient } from './sql-client.js'

/** Which database the ORM talks to: `postgresql` (the `pg` driver) or `pglite` (embedded). */
export function ormDialect (orm: MikroORM): 'postgresql' | 'pglite' {
  const driver = orm.config.getDriver().constructor.name
  if (driver === 'PgliteDriver') return 'pglite'
  if (driver === 'PostgreSqlDriver') return 'postgresql'
  throw new InvalidOptionsError('orm', `driver ${driver} is not supported; use @mikro-orm/postgresql or @mikro-orm/pglite`)
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
