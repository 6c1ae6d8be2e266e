/**
 * Database lifecycle: every scenario of every system gets a fresh database on the server of
 * `DATABASE_URL`, dropped in `finally` (and on SIGINT/SIGTERM), so a run never leaves one behind.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const live = new Set()

async function admin (sql) {
  const client = new pg.Client({ connectionString: BASE_URL })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}

/**
 * Creates a database (a file copy of `template` when given: a filled database reused by several
 * repeats), runs `fn(url, name)`, drops the database whatever happens.
 */
export async function withDatabase (label, fn, { template } = {}) {
  const name = `fms_bench_${label}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
  await admin(template === undefined ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${template}" STRATEGY FILE_COPY`)
  live.add(name)
  try {
    const url = new URL(BASE_URL)
    url.pathname = `/${name}`
    return await fn(url.toString(), name)
  } finally {
    await drop(name)
  }
}

async function drop (name) {
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  live.delete(name)
}

/** The server's version line, for the results header. */
export async function serverVersion () {
  const { rows } = await admin('SHOW server_version')
  return `PostgreSQL ${rows[0].server_version}`
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, dropping ${live.size} database(s)\n`)
    Promise.allSettled([...live].map(drop)).finally(() => process.exit(130))
  })
}

/**
 * A database kept across the repeats of one row (filled once, then copied per repeat as the
 * `template` of `withDatabase`): { name, url, drop() }.
 */
export async function createTemplate (label) {
  const name = `fms_bench_${label}_tpl_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
  await admin(`CREATE DATABASE "${name}"`)
  live.add(name)
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  return { name, url: url.toString(), drop: () => drop(name) }
}
