/**
 * What every database module of the bench shares: a scenario's database (a PostgreSQL or MariaDB
 * database, a SQLite file's directory) exists only while its function runs, and is removed in
 * `finally` and on SIGINT/SIGTERM, so a run never leaves one behind whatever the database.
 */
import { randomBytes } from 'node:crypto'

/** name → remove(): the databases that exist right now, for the signal handler. */
const live = new Map()

/**
 * `fms_bench_<label>_<8 hex>`, lower case, only `[a-z0-9_]`: a fresh name that needs no quoting
 * rules beyond the dialect's identifier quotes.
 */
export function freshName (label) {
  return `fms_bench_${label}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
}

/**
 * Marks `name` as existing until `remove()` runs; returns the function that removes it (idempotent
 * enough to call from `finally` and again from the signal handler).
 */
export function track (name, remove) {
  const removeOnce = async () => {
    if (!live.has(name)) return
    live.delete(name)
    await remove()
  }
  live.set(name, removeOnce)
  return removeOnce
}

/**
 * Creates a database with `create()`, runs `fn()`, and always removes it with `remove()`
 * (both async, from the database's module); returns what `fn` returns.
 */
export async function scoped (name, create, remove, fn) {
  await create()
  const removeOnce = track(name, remove)
  try {
    return await fn()
  } finally {
    await removeOnce()
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, removing ${live.size} database(s)\n`)
    Promise.allSettled([...live.values()].map((remove) => remove())).finally(() => process.exit(130))
  })
}
