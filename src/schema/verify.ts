/**
 * `install: 'migrations'`: the plugin never changes the schema, it only checks that every schema
 * version this library needs is applied, reading the catalogs (allowed to a role with nothing but
 * SELECT/INSERT/UPDATE/DELETE on the tables).
 */
import { SchemaOutdatedError } from '../errors.js'
import type { SqlExecutor } from '../sql/sql-client.js'
import { SCHEMA_VERSIONS } from './versions.js'

/**
 * Resolves when the schema has every version of {@link SCHEMA_VERSIONS}.
 * @throws SchemaOutdatedError naming the first migration not applied and the ones after it.
 */
export async function verifySchema (sql: SqlExecutor): Promise<void> {
  for (const [index, version] of SCHEMA_VERSIONS.entries()) {
    const [row] = await sql.query<{ applied: boolean }>(version.probe)
    if (row?.applied !== true) {
      const pending = SCHEMA_VERSIONS.slice(index).map((each) => each.name)
      throw new SchemaOutdatedError(version.name, version.description, pending.join(', '))
    }
  }
}
