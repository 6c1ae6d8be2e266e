/**
 * Command line of `npm run bench`: `--database <id>`, `--quick`, `--only <row>`, `--systems <ids>`,
 * `--repeats <n>`, `--json <file>`, `--help`, and the workload sizes each mode uses. Sizes live here
 * so the table header can print them; the rows each database measures live in its module
 * (databases/*.mjs `ROWS`).
 */
import { parseArgs as parseNodeArgs } from 'node:util'
import { DATABASES } from './databases/index.mjs'

export const ROWS = ['burst', 'steady', 'adds', 'history', 'stored', 'scale-out', 'isolation']

/** System ids in table order (see systems.mjs). */
export const SYSTEM_IDS = ['ours', 'ceiling', 'pg-boss', 'graphile-worker', 'bullmq', 'apscheduler']

const FULL = {
  burst: { jobs: 10_000 },
  steady: { jobs: 1_000, seconds: 60 },
  adds: { single: 2_000, batched: 20_000, batchSize: 1_000 },
  // 10 million history rows spread over `days` days; the burst runs on top of them, then one
  // day's history is deleted while `ticking` interval jobs fire every second.
  history: { rows: 10_000_000, days: 30, jobs: 10_000, ticking: 100 },
  stored: { jobs: 1_000_000, due: 10, ticking: 3, idleSeconds: 20 },
  // Issue #12, this project only: worker processes on one database (maxConcurrency 10 each).
  'scale-out': { jobs: 2_000, handlerMs: 100, processes: [1, 2, 4] },
  isolation: { jobs: 20, longSeconds: 60, processes: 4 }
}

const QUICK = {
  burst: { jobs: 2_000 },
  steady: { jobs: 200, seconds: 10 },
  adds: { single: 300, batched: 3_000, batchSize: 1_000 },
  history: { rows: 100_000, days: 30, jobs: 2_000, ticking: 20 },
  stored: { jobs: 10_000, due: 10, ticking: 3, idleSeconds: 5 },
  'scale-out': { jobs: 200, handlerMs: 100, processes: [1, 2, 4] },
  isolation: { jobs: 20, longSeconds: 4, processes: 4 }
}

const DATABASE_IDS = Object.keys(DATABASES)

/** Rows measured on database `id`, in table order. */
export const rowsOn = (id) => DATABASES[id].ROWS ?? ROWS

export const USAGE = `usage: npm run bench -- [--database ${DATABASE_IDS.join('|')}] [--quick] [--only ${ROWS.join('|')}] [--systems <ids>] [--repeats <n>] [--json <file>]
  --database <id>  the database every system stores its jobs in (default ${DATABASE_IDS[0]}); rows per database:
${DATABASE_IDS.map((id) => `                     ${id}: ${rowsOn(id).join(', ')}`).join('\n')}
                   on mariadb and sqlite: this project and APScheduler; the ceiling, pg-boss and
                   graphile-worker (PostgreSQL only) and BullMQ (Redis) are shown as n/a
  --quick          small sizes, one repeat, peers on the burst row only (CI smoke check)
  --only <row>     run one row (may be repeated, or comma-separated: --only scale-out,isolation)
  --systems <ids>  comma-separated subset of ${SYSTEM_IDS.join(',')} (default: all)
  --repeats <n>    runs per scenario and system; the table shows the median and range (default 3, quick 1)
  --scale <f>      multiply every row's job and row counts by f (e.g. 0.1 to develop on a busy machine)
  --json <file>    also write the results as JSON
rows on PostgreSQL: burst, steady, adds, history, stored (every system); scale-out (executions/s with 1, 2 and 4
  worker processes on one database, 100 ms I/O-bound handlers) and isolation (1 s heartbeat lag
  while 20 long jobs run on 4 processes): this project only (issue #12, distributed execution)
environment: DATABASE_URL (default ${DATABASES.postgresql.BASE_URL}; a fresh
database is created on that server for each scenario and dropped afterwards), MARIADB_URL (default
${DATABASES.mariadb.BASE_URL}; the same, for --database mariadb; --database sqlite uses a fresh file
in a directory of its own under ${DATABASES.sqlite.BASE_URL}, removed afterwards),
REDIS_URL (default redis://127.0.0.1:6379, BullMQ only), BENCH_PYTHON (default /usr/bin/python3)
for the APScheduler side. The peers (pg-boss, graphile-worker, BullMQ) are installed into
bench/node_modules with \`npm ci\` from bench/package-lock.json on first use.`

export class UsageError extends Error {}

const SCALED = new Set(['jobs', 'single', 'batched', 'rows', 'ticking'])

/**
 * Parses argv (without node and script) into { database, quick, help, json, rows, systems, repeats,
 * scale, sizes }; throws UsageError on anything unknown, and on a row `--database` does not measure.
 */
export function parseArgs (argv) {
  let parsed
  try {
    parsed = parseNodeArgs({
      args: argv,
      options: {
        database: { type: 'string', default: DATABASE_IDS[0] },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        only: { type: 'string', multiple: true, default: [] },
        systems: { type: 'string' },
        repeats: { type: 'string' },
        scale: { type: 'string' },
        json: { type: 'string' }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    throw new UsageError(error.message)
  }
  parsed.only = parsed.only.flatMap((o) => o.split(',').map((s) => s.trim()).filter((s) => s !== ''))
  if (!DATABASE_IDS.includes(parsed.database)) throw new UsageError(`unknown database '${parsed.database}'; databases: ${DATABASE_IDS.join(', ')}`)
  const rows = rowsOn(parsed.database)
  for (const row of parsed.only) {
    if (!ROWS.includes(row)) throw new UsageError(`unknown row '${row}'; rows: ${ROWS.join(', ')}`)
    if (!rows.includes(row)) throw new UsageError(`row '${row}' is not measured on ${DATABASES[parsed.database].LABEL}; rows there: ${rows.join(', ')}`)
  }
  const systems = parsed.systems === undefined ? SYSTEM_IDS : parsed.systems.split(',').map((s) => s.trim())
  for (const id of systems) if (!SYSTEM_IDS.includes(id)) throw new UsageError(`unknown system '${id}'; systems: ${SYSTEM_IDS.join(', ')}`)
  const repeats = parsed.repeats === undefined ? (parsed.quick ? 1 : 3) : Number(parsed.repeats)
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`--repeats must be a whole number ≥ 1, got '${parsed.repeats}'`)
  const scale = parsed.scale === undefined ? 1 : Number(parsed.scale)
  if (!(scale > 0 && scale <= 1)) throw new UsageError(`--scale must be a number in (0, 1], got '${parsed.scale}'`)
  const base = parsed.quick ? QUICK : FULL
  const sizes = Object.fromEntries(Object.entries(base).map(([row, s]) => [row, Object.fromEntries(
    Object.entries(s).map(([key, value]) => [key, SCALED.has(key) ? Math.max(1, Math.round(value * scale)) : value]))]))
  return {
    database: parsed.database,
    quick: parsed.quick,
    help: parsed.help,
    json: parsed.json ?? null,
    rows: parsed.only.length > 0 ? rows.filter((row) => parsed.only.includes(row)) : rows,
    systems: SYSTEM_IDS.filter((id) => systems.includes(id)),
    repeats,
    scale,
    sizes
  }
}
