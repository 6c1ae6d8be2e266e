/**
 * Command line of `npm run bench`: `--quick`, `--only <row>`, `--json <file>`, `--help`, and the
 * workload sizes each mode uses. Sizes live here so the table header can print them.
 */
export const ROWS = ['burst', 'steady', 'scale', 'adds']

const FULL = {
  burst: { jobs: 10_000 },
  steady: { jobs: 1_000, seconds: 60 },
  scale: { jobs: 100_000, due: 10, ticking: 3, idleSeconds: 20 },
  adds: { single: 2_000, batched: 20_000, batchSize: 1_000 }
}

const QUICK = {
  burst: { jobs: 2_000 },
  steady: { jobs: 200, seconds: 10 },
  scale: { jobs: 10_000, due: 10, ticking: 3, idleSeconds: 5 },
  adds: { single: 300, batched: 3_000, batchSize: 1_000 }
}

export const USAGE = `usage: npm run bench -- [--quick] [--only ${ROWS.join('|')}] [--json <file>]
  --quick        small sizes for a fast look (CI smoke check)
  --only <row>   run one row (may be repeated)
  --json <file>  also write the results as JSON
environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres; a fresh
database is created on that server for each scenario and dropped afterwards),
BENCH_PYTHON (default /usr/bin/python3) for the APScheduler side.`

export class UsageError extends Error {}

/** Parses argv (without node and script); throws UsageError on anything unknown. */
export function parseArgs (argv) {
  const options = { quick: false, only: [], json: null, help: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--help' || arg === '-h') options.help = true
    else if (arg === '--only' || arg === '--json') {
      const value = argv[++i]
      if (value === undefined) throw new UsageError(`${arg} needs a value`)
      if (arg === '--json') options.json = value
      else if (!ROWS.includes(value)) throw new UsageError(`unknown row '${value}'; rows: ${ROWS.join(', ')}`)
      else options.only.push(value)
    } else throw new UsageError(`unknown argument '${arg}'`)
  }
  options.rows = options.only.length > 0 ? ROWS.filter((row) => options.only.includes(row)) : ROWS
  options.sizes = options.quick ? QUICK : FULL
  return options
}
