/**
 * The databases `npm run bench` can run on, one module each (postgresql.mjs, mariadb.mjs,
 * sqlite.mjs), all of one shape:
 * - `ID`, `LABEL`, `PROTOCOLS` (URL schemes of its scenario URLs), `ROWS` (rows measured on it,
 *   null for every row), `BASE_URL`, `ORM_DRIVER`, `PYTHON_DRIVER` ({ module, debian, name });
 * - parent side: `withDatabase(label, fn)` (a fresh database for `fn(url, name)`, removed
 *   afterwards) and `serverVersion()`; PostgreSQL's also `createTemplate(label)` (the history row);
 * - child side: `openOrm(url, { entities, pool })` (this project's MikroORM), `openQuery(url, orm)`
 *   ({ query(text, values?) → rows, close() }, the harness's own queries) and `sqlalchemyUrl(url)`.
 */
import * as mariadb from './mariadb.mjs'
import * as postgresql from './postgresql.mjs'
import * as sqlite from './sqlite.mjs'

/** id → module, `--database` order (the first is the default). */
export const DATABASES = { postgresql, mariadb, sqlite }

/**
 * The module of a scenario URL, by its scheme (a child process is given only the URL).
 * @throws Error for a scheme no module claims.
 */
export function databaseOf (url) {
  const protocol = new URL(url).protocol
  const found = Object.values(DATABASES).find((database) => database.PROTOCOLS.includes(protocol))
  if (found === undefined) throw new Error(`bench: no database module for '${protocol}' URLs`)
  return found
}
