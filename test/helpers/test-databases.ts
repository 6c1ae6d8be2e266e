/**
 * The database servers a test can run on, behind one shape, so a test written once runs on each
 * (`for (const db of SERVER_DATABASES) t.test(`… on ${db.name}`, …)`): a fresh database per test
 * file or test, a MikroORM instance with the scheduler's entities, and a one-off query for
 * assertions straight on the tables. Queries use `?` placeholders on every server (turned into
 * `$1…` for PostgreSQL), so keep `?` out of string literals in them; quote identifiers only where
 * needed and write SQL both servers accept (`count(*)`, `=`, `<>`; compare times as parameters).
 */
import type { MikroORM } from '@mikro-orm/core'
import { BASE_URL, freshDatabase, openOrm, query } from './database.js'
import { MARIADB_BASE_URL, freshMariadbDatabase, mariadbQuery, openMariadbOrm } from './mariadb.js'

interface Teardown { teardown(fn: () => unknown): void }

export interface TestDatabase {
  /** `postgresql` or `mariadb`: for test names and dialect-specific assertions. */
  name: 'postgresql' | 'mariadb'
  /** The server's base URL (the `DATABASE_URL` / `MARIADB_URL` the tests use). */
  baseUrl: string
  /** Creates an empty database, dropped at the end of `t`; returns its URL. */
  fresh(t: Teardown, label: string): Promise<string>
  /** A MikroORM instance with the scheduler's entities on `url`, closed at the end of `t`. */
  openOrm(t: Teardown, url: string): Promise<MikroORM>
  /** One statement with `?` placeholders on a short-lived connection. */
  query<Row = Record<string, any>>(url: string, text: string, values?: unknown[]): Promise<Row[]>
}

/** `?` placeholders to PostgreSQL's `$1…` (no `?` may appear inside literals). */
function numbered (text: string): string {
  let n = 0
  return text.replace(/\?/g, () => `$${++n}`)
}

export const POSTGRESQL: TestDatabase = {
  name: 'postgresql',
  baseUrl: BASE_URL,
  fresh: freshDatabase,
  openOrm: async (t, url) => openOrm(t, url) as unknown as Promise<MikroORM>,
  query: async <Row = Record<string, any>>(url: string, text: string, values: unknown[] = []) => query<Row>(url, numbered(text), values)
}

export const MARIADB: TestDatabase = {
  name: 'mariadb',
  baseUrl: MARIADB_BASE_URL,
  fresh: freshMariadbDatabase,
  openOrm: async (t, url) => openMariadbOrm(t, url) as unknown as Promise<MikroORM>,
  query: mariadbQuery
}

/** The jobs table's `trigger` column as each server's SQL names it (a reserved word in MySQL/MariaDB). */
export const TRIGGER_COLUMN: Record<TestDatabase['name'], string> = { postgresql: 'trigger', mariadb: '`trigger`' }

/** The multi-process databases: PostgreSQL and MariaDB (PGlite and SQLite are one process's). */
export const SERVER_DATABASES: readonly TestDatabase[] = [POSTGRESQL, MARIADB]
