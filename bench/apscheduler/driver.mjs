/**
 * Runs the APScheduler 3 side (`apscheduler_bench.py`) with `/usr/bin/python3` (or
 * BENCH_PYTHON), each scenario on its own fresh database. When the interpreter cannot import
 * apscheduler, sqlalchemy and psycopg2 the bench skips this side and says why.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { runChild } from '../child-process.mjs'
import { withDatabase } from '../database.mjs'

const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./apscheduler_bench.py', import.meta.url))

export const description = 'BackgroundScheduler, SQLAlchemyJobStore (psycopg2), ThreadPoolExecutor(20), ' +
  'misfire_grace_time None, coalesce True, max_instances 1; no execution log (APScheduler 3 has none)'

/** { available: true, version } or { available: false, reason }. */
export async function detectApscheduler () {
  try {
    const { stdout } = await promisify(execFile)(PYTHON, ['-c',
      'import apscheduler, sqlalchemy, psycopg2; print(apscheduler.__version__, sqlalchemy.__version__)'])
    const [version, sqlalchemy] = stdout.trim().split(' ')
    return { available: true, version: `APScheduler ${version}, SQLAlchemy ${sqlalchemy}` }
  } catch {
    return {
      available: false,
      reason: `${PYTHON} cannot import apscheduler, sqlalchemy and psycopg2 (Debian: apt-get install python3-apscheduler python3-sqlalchemy python3-psycopg2); APScheduler column skipped`
    }
  }
}

/** The stored row is the script's `scale` scenario; the script picks its own burst lead. */
export async function runApscheduler (row, { leadMs, ...sizes }) {
  const scenario = row === 'stored' ? 'scale' : row
  return withDatabase(`aps_${row}`, async (url) => {
    const run = (name) => runChild(PYTHON, [SCRIPT, name, url, JSON.stringify(sizes)], 900_000)
    if (scenario === 'scale') await run('scaleFill')
    return run(scenario)
  })
}
