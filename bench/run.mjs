/**
 * `npm run bench`: runs the rows (burst, steady, scale, adds) for this project and, when
 * available, APScheduler 3 + SQLAlchemyJobStore on the same PostgreSQL server, then prints one
 * Markdown table with ratios. Exits 1 when a scenario fails (never because of speed).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import * as aps from './apscheduler/driver.mjs'
import { parseArgs, USAGE, UsageError } from './cli.mjs'
import { serverVersion } from './database.mjs'
import * as ours from './node/driver.mjs'
import { formatTable } from './table.mjs'

const n = (value) => value.toLocaleString('en-US')

/** Short HEAD commit, `+dirty` when src/ has uncommitted changes; `unknown` outside git. */
function gitCommit () {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== ''
    return `${head}${dirty ? '+dirty' : ''}`
  } catch {
    return 'unknown'
  }
}

let options
try {
  options = parseArgs(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  process.stderr.write(`bench: ${error.message}\n${USAGE}\n`)
  process.exit(2)
}
if (options.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown CPU'
const nproc = execFileSync('nproc').toString().trim() || String(availableParallelism())
const commit = process.env.BENCH_COMMIT ?? gitCommit()
const apscheduler = await aps.detectApscheduler()
const meta = {
  date: new Date().toISOString(),
  mode: options.quick ? 'quick' : 'full',
  commit,
  machine: `${nproc} cores (nproc), ${cpuModel}`,
  postgres: await serverVersion(),
  node: process.version,
  apscheduler: apscheduler.available ? apscheduler.version : apscheduler.reason,
  oursOptions: ours.description,
  theirsOptions: aps.description,
  lag: 'fire lag = handler start (process clock) − scheduled run time (ctx.runTime / scheduled_run_time)'
}
process.stderr.write(`bench: ${meta.mode} run, rows ${options.rows.join(', ')}; ${meta.apscheduler}\n`)

const results = {}
let failed = false
for (const row of options.rows) {
  const sizes = options.sizes[row]
  const attempt = async (name, fn) => {
    process.stderr.write(`bench: ${row} / ${name} ...\n`)
    const started = Date.now()
    try {
      const result = await fn(row, sizes)
      process.stderr.write(`bench: ${row} / ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s${result.note ? ` (${result.note})` : ''}\n`)
      return result
    } catch (error) {
      failed = true
      process.stderr.write(`bench: ${row} / ${name} FAILED: ${error.stack ?? error}\n`)
      return { error: String(error.message ?? error) }
    }
  }
  const oursResult = await attempt('fastify-mikro-scheduler', ours.runOurs)
  if (oursResult.exactlyOnce === false) {
    failed = true
    process.stderr.write(`bench: ${row}: exactly-once check FAILED: ${oursResult.note}\n`)
  }
  const theirs = apscheduler.available ? await attempt('APScheduler', aps.runApscheduler) : null
  results[row] = { sizes, ours: oursResult, theirs }
}

const out = [
  '',
  `${meta.mode} run, ${meta.date}, commit ${meta.commit}; ${meta.machine}; ${meta.postgres}; Node ${meta.node}; ${meta.apscheduler}`,
  `fastify-mikro-scheduler: ${meta.oursOptions}; execution logging on (every execution is a row of scheduler_job_execution).`,
  `APScheduler: ${meta.theirsOptions}.`,
  `${meta.lag}. ratio: how many times better fastify-mikro-scheduler is (>1 = better).`,
  '',
  ...formatTable(results, { full: !options.quick, theirsName: apscheduler.available ? apscheduler.version.split(',')[0] : 'APScheduler (skipped)' })
]
if (results.burst?.ours.exactlyOnce !== undefined) out.push('', `burst exactly-once: ${results.burst.ours.exactlyOnce ? 'ok' : 'FAILED'} (${results.burst.ours.note})`)
if (results.adds?.theirs && results.adds.theirs.error === undefined) out.push('', 'adds: APScheduler 3 has no batched add; its batched figure is its single add.')
if (results.scale?.ours.plan) out.push('', `claim query plan (scale row, ${n(results.scale.sizes.jobs)} stored jobs; EXPLAIN ANALYZE, rolled back):`, '```', results.scale.ours.plan, '```')
process.stdout.write(`${out.join('\n')}\n`)

if (options.json !== null) writeFileSync(options.json, `${JSON.stringify({ meta, results }, null, 2)}\n`)
process.exit(failed ? 1 : 0)
