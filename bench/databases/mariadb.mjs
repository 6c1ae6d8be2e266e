/**
 * MariaDB (`--database mariadb`, issue #15; MySQL ≥ 8.0 would do too): every scenario gets a fresh
 * database on the server of `MARIADB_URL` (default mysql://root@127.0.0.1:3306/test, the database
 * named there is only used to connect), dropped afterwards (lifecycle.mjs). Rows burst and steady
 * only; this project runs on MikroORM's MariaDB driver (the library picks its MySQL store from the
 * driver), APScheduler on SQLAlchemy with PyMySQL. Statements here use `?` placeholders (mysql2).
 */
import mysql from 'mysql2/promise'
import { freshName, scoped } from './lifecycle.mjs'

export const ID = 'mariadb'
export const LABEL = 'MariaDB'
/** URL schemes of this database's scenario URLs (databases/index.mjs `databaseOf`). */
export const PROTOCOLS = ['mysql:', 'mariadb:']
/** Rows measured on this database (the others are PostgreSQL's only; cli.mjs refuses them). */
export const ROWS = ['burst', 'steady']
export const BASE_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'
/** This project's MikroORM driver here, for the settings line. */
export const ORM_DRIVER = '@mikro-orm/mariadb (forceUtcTimezone)'
/** APScheduler's side: the DB-API module python3 must import, and its Debian package. */
export const PYTHON_DRIVER = { module: 'pymysql', debian: 'python3-pymysql', name: 'PyMySQL' }

/** A connection of its own on `url` (times read as UTC, `Date`s back for datetimes). */
const connect = (url) => mysql.createConnection({ uri: url, timezone: 'Z', dateStrings: false })

async function admin (sql) {
  const connection = await connect(BASE_URL)
  try {
    const [rows] = await connection.query(sql)
    return rows
  } finally {
    await connection.end()
  }
}

/** Creates a database, runs `fn(url, name)`, drops it whatever happens; returns what `fn` returns. */
export async function withDatabase (label, fn) {
  const name = freshName(label)
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  return scoped(name,
    () => admin(`CREATE DATABASE \`${name}\``),
    () => admin(`DROP DATABASE IF EXISTS \`${name}\``),
    () => fn(url.toString(), name))
}

/** The server's version line, for the results header: `MariaDB 10.11.6` (or `MySQL 8.0.x`). */
export async function serverVersion () {
  const [{ version }] = await admin('SELECT VERSION() AS version')
  const [number] = version.split('-')
  return /mariadb/i.test(version) ? `MariaDB ${number}` : `MySQL ${number}`
}

/** Child side: a MikroORM (MariaDB driver) on the scenario's database `url`. */
export async function openOrm (url, { entities, pool }) {
  const { MikroORM } = await import('@mikro-orm/mariadb')
  return MikroORM.init({ clientUrl: url, entities, pool, forceUtcTimezone: true })
}

/**
 * Child side: the harness's own queries (assertions) on a connection of their own, opened at the
 * first query: { query(text, values?) → rows, close() }. `?` placeholders.
 */
export function openQuery (url) {
  let connection = null
  return {
    query: async (text, values = []) => {
      connection ??= await connect(url)
      const [rows] = await connection.query(text, values)
      return rows
    },
    close: async () => { await connection?.end() }
  }
}

/** APScheduler's SQLAlchemy URL for a scenario URL: `mysql+pymysql://…?charset=utf8mb4`. */
export function sqlalchemyUrl (url) {
  const parsed = new URL(url)
  return `mysql+pymysql://${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@${parsed.host}${parsed.pathname}?charset=utf8mb4`
}
