/**
 * Runs the APScheduler 3 side (`apscheduler_bench.py`) with `/usr/bin/python3` (or BENCH_PYTHON),
 * each scenario on its own fresh database of the run's database module (databases/*.mjs), whose
 * SQLAlchemy URL the script is given. When the interpreter cannot import apscheduler, sqlalchemy
 * and the database's DB-API driver (psycopg2, PyMySQL, sqlite3) the bench skips this side and says why.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { runChild } from '../child-process.mjs'

const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./apscheduler_bench.py', import.meta.url))

/** The settings line on `database` (a databases/*.mjs module). */
export const description = (database) => `BackgroundScheduler, SQLAlchemyJobStore (${database.PYTHON_DRIVER.name}), ThreadPoolExecutor(20), ` +
  'misfire_grace_time None, coalesce True, max_instances 1; no execution log (APScheduler 3 has none)'

/**
 * { available: true, version: 'APScheduler 3.9.1, SQLAlchemy 1.4.46, PyMySQL 1.0.2' } or
 * { available: false, reason } when python3 cannot import apscheduler, sqlalchemy and the DB-API
 * driver of `database`.
 */
export async function detectApscheduler (database) {
  const driver = database.PYTHON_DRIVER
  try {
    const { stdout } = await promisify(execFile)(PYTHON, ['-c',
      `import apscheduler, sqlalchemy, ${driver.module} as driver; print(apscheduler.__version__, sqlalchemy.__version__, getattr(driver, '__version__', getattr(driver, 'sqlite_version', '?')))`])
    const [version, sqlalchemy, driverVersion] = stdout.trim().split(' ')
    return { available: true, version: `APScheduler ${version}, SQLAlchemy ${sqlalchemy}, ${driver.name} ${driverVersion}` }
  } catch {
    return {
      available: false,
      reason: `${PYTHON} cannot import apscheduler, sqlalchemy and ${driver.module} (Debian: apt-get install python3-apscheduler python3-sqlalchemy ${driver.debian}); APScheduler column skipped`
    }
  }
}

/**
 * The runner of one row on `database`: (row, sizes) → result. The stored row is the script's
 * `scale` scenario; the script picks its own burst lead.
 */
export const runApscheduler = (database) => async (row, { leadMs, ...sizes }) => {
  const scenario = row === 'stored' ? 'scale' : row
  return database.withDatabase(`aps_${row}`, async (url) => {
    const run = (name) => runChild(PYTHON, [SCRIPT, name, database.sqlalchemyUrl(url), JSON.stringify(sizes)], 900_000)
    if (scenario === 'scale') await run('scaleFill')
    return run(scenario)
  })
}
