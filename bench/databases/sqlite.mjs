/**
 * SQLite (`--database sqlite`): every scenario gets a fresh file, `bench.db` in a directory of its
 * own under the OS temp directory, removed afterwards with everything SQLite and the scheduler put
 * beside it (WAL, `-shm`, the scheduler's `.scheduler.lock`). Scenario URLs are `file:` URLs.
 * Rows burst and steady only; this project runs on MikroORM's libSQL driver (one connection, the
 * library's SQLite store), APScheduler on SQLAlchemy's built-in `sqlite3`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freshName, scoped } from './lifecycle.mjs'

export const ID = 'sqlite'
export const LABEL = 'SQLite'
/** URL schemes of this database's scenario URLs (databases/index.mjs `databaseOf`). */
export const PROTOCOLS = ['file:']
/** Rows measured on this database (the others are PostgreSQL's only; cli.mjs refuses them). */
export const ROWS = ['burst', 'steady']
/** Where the scenario files go (shown in the usage text). */
export const BASE_URL = pathToFileURL(tmpdir()).toString()
/** This project's MikroORM driver here, for the settings line. */
export const ORM_DRIVER = '@mikro-orm/libsql (one connection, WAL)'
/** APScheduler's side: the DB-API module python3 must import (the standard library's), and its Debian package. */
export const PYTHON_DRIVER = { module: 'sqlite3', debian: 'libpython3-stdlib', name: 'sqlite3' }

/** Creates a directory for the file, runs `fn(url, name)`, removes the directory whatever happens. */
export async function withDatabase (label, fn) {
  const name = freshName(label)
  let dir = null
  return scoped(name,
    async () => { dir = await mkdtemp(join(tmpdir(), `${name}-`)) },
    () => rm(dir, { recursive: true, force: true }),
    () => fn(pathToFileURL(join(dir, 'bench.db')).toString(), name))
}

/** The library's version line, for the results header: `SQLite 3.45.1 (libSQL)`. */
export async function serverVersion () {
  const { default: Database } = await import('libsql')
  const db = new Database(':memory:')
  try {
    return `SQLite ${db.prepare('SELECT sqlite_version() AS v').get().v} (libSQL)`
  } finally {
    db.close()
  }
}

/** Child side: a MikroORM (libSQL driver) on the scenario's file (`pool` does not apply: one connection). */
export async function openOrm (url, { entities }) {
  const { MikroORM } = await import('@mikro-orm/libsql')
  return MikroORM.init({ dbName: fileURLToPath(url), entities })
}

/**
 * Child side: the harness's own queries (assertions) on a connection of their own to the file,
 * opened at the first query (WAL: it reads while the scheduler's connection writes):
 * { query(text, values?) → rows, close() }. `?` placeholders.
 */
export function openQuery (url) {
  let db = null
  return {
    query: async (text, values = []) => {
      if (db === null) {
        const { default: Database } = await import('libsql')
        db = new Database(fileURLToPath(url))
      }
      return db.prepare(text).all(values)
    },
    close: async () => { db?.close() }
  }
}

/** APScheduler's SQLAlchemy URL for a scenario URL: `sqlite:////abs/path/bench.db`. */
export const sqlalchemyUrl = (url) => `sqlite:///${fileURLToPath(url)}`
