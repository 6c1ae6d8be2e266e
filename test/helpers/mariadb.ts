/**
 * MariaDB/MySQL test databases: every test file gets a database of its own on the real server
 * (`MARIADB_URL`, default mysql://root@127.0.0.1:3306/test), dropped when the file ends.
 */
import { randomBytes } from 'node:crypto'
import { MikroORM } from '@mikro-orm/mariadb'
import { CompiledQuery } from 'kysely'
import mysql from 'mysql2/promise'
import { schedulerEntities } from '../../src/entities/index.js'

export const MARIADB_BASE_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'

interface Teardown { teardown(fn: () => unknown): void }

/** Creates an empty database, drops it at the end of `t`. Returns its URL. */
export async function freshMariadbDatabase (t: Teardown, label: string): Promise<string> {
  const name = `fms_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  await mariadbQuery(MARIADB_BASE_URL, `CREATE DATABASE \`${name}\``)
  t.teardown(async () => mariadbQuery(MARIADB_BASE_URL, `DROP DATABASE IF EXISTS \`${name}\``))
  const url = new URL(MARIADB_BASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * MySQL 8.0's default `sql_mode` (MySQL reference, "Server SQL Modes"), stricter than MariaDB's
 * (`ONLY_FULL_GROUP_BY` above all): a session in it runs the statements as MySQL 8 would judge them.
 */
export const MYSQL8_SQL_MODE = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'

/**
 * A MikroORM instance (MariaDB driver) on `url` with the scheduler's entities; closed at the end of
 * `t`. With `sqlMode`, every pooled connection runs in it.
 */
export async function openMariadbOrm (t: Teardown, url: string, options: { sqlMode?: string } = {}): Promise<MikroORM> {
  const sqlMode = options.sqlMode
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [...schedulerEntities],
    pool: { min: 0, max: 5 },
    ...(sqlMode === undefined
      ? {}
      : { onCreateConnection: async (connection: unknown) => { await (connection as { executeQuery(query: CompiledQuery): Promise<unknown> }).executeQuery(CompiledQuery.raw(`SET SESSION sql_mode = '${sqlMode}'`)) } })
  })
  t.teardown(async () => orm.close(true))
  return orm
}

/** Runs one statement on `url` with a short-lived connection (for assertions straight on the tables). */
export async function mariadbQuery<Row = Record<string, any>> (url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const connection = await mysql.createConnection({ uri: url, timezone: 'Z', dateStrings: false })
  try {
    const [rows] = await connection.query(text, values)
    return rows as Row[]
  } finally {
    await connection.end()
  }
}
