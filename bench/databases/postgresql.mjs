/**
 * PostgreSQL, the bench's default database (`--database postgresql`): every scenario of every
 * system gets a fresh database on the server of `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards (lifecycle.mjs). Every row is
 * measured here, and every peer runs here. Also the child side: this project's MikroORM on a
 * scenario's database and the harness's own queries, and the SQLAlchemy URL of APScheduler's side.
 */
import pg from 'pg'
import { freshName, scoped, track } from './lifecycle.mjs'

export const ID = 'postgresql'
export const LABEL = 'PostgreSQL'
/** URL schemes of this database's scenario URLs (databases/index.mjs `databaseOf`). */
export const PROTOCOLS = ['postgres:', 'postgresql:']
/** Rows measured on this database: null = every row of cli.mjs. */
export const ROWS = null
export const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
/** This project's MikroORM driver here, for the settings line. */
export const ORM_DRIVER = '@mikro-orm/postgresql'
/** APScheduler's side: the DB-API module python3 must import, and its Debian package. */
export const PYTHON_DRIVER = { module: 'psycopg2', debian: 'python3-psycopg2', name: 'psycopg2' }

async function admin (sql) {
  const client = new pg.Client({ connectionString: BASE_URL })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}

const urlOf = (name) => {
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

const drop = (name) => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)

/**
 * Creates a database (a file copy of `template` when given: a filled database reused by several
 * repeats), runs `fn(url, name)`, drops the database whatever happens; returns what `fn` returns.
 */
export async function withDatabase (label, fn, { template } = {}) {
  const name = freshName(label)
  return scoped(name,
    () => admin(template === undefined ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${template}" STRATEGY FILE_COPY`),
    () => drop(name),
    () => fn(urlOf(name), name))
}

/**
 * A database kept across the repeats of one row (filled once, then copied per repeat as the
 * `template` of `withDatabase`): { name, url, drop() }.
 */
export async function createTemplate (label) {
  const name = freshName(`${label}_tpl`)
  await admin(`CREATE DATABASE "${name}"`)
  return { name, url: urlOf(name), drop: track(name, () => drop(name)) }
}

/** The server's version line, for the results header: `PostgreSQL 15.20`. */
export async function serverVersion () {
  const { rows } = await admin('SHOW server_version')
  return `PostgreSQL ${rows[0].server_version}`
}

/** Child side: a MikroORM (PostgreSQL driver) on the scenario's database `url`. */
export async function openOrm (url, { entities, pool }) {
  const { MikroORM } = await import('@mikro-orm/postgresql')
  return MikroORM.init({ clientUrl: url, entities, pool })
}

/**
 * Child side: the harness's own queries (assertions, bulk loads, EXPLAIN), on the ORM's pool:
 * { query(text, values?) → rows, close() }. `$1` placeholders.
 */
export function openQuery (url, orm) {
  return {
    query: async (text, values = []) => (await orm.em.getConnection().getNativeClient()).query(text, values).then((r) => r.rows),
    close: async () => {}
  }
}

/** APScheduler's SQLAlchemy URL for a scenario URL: `postgresql+psycopg2://…`. */
export const sqlalchemyUrl = (url) => url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://')
