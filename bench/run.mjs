/**
 * `npm run bench`: runs the rows (burst, steady, adds, history, stored; and, for this project
 * only, scale-out and isolation over several worker processes, issue #12) for this project, the
 * ceiling (a minimal claim-and-log loop of our own), pg-boss, graphile-worker, BullMQ (each with
 * its documented defaults and its best throughput configuration) and APScheduler 3, every
 * scenario `--repeats` times on a fresh database of the same PostgreSQL server, and prints one
 * Markdown report: a table per row (median and range), the settings of every system, and the
 * targets. With `--database mariadb` or `sqlite` (issue #15): burst and steady, for this project
 * and APScheduler 3 on that database; the PostgreSQL-only systems and BullMQ are shown as n/a.
 * Exits 1 when a scenario of this project fails or its exactly-once check does (never
 * because of speed, and never because a peer is missing or fails: those are shown as such).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import * as aps from './apscheduler/driver.mjs'
import { parseArgs, USAGE, UsageError } from './cli.mjs'
import { DATABASES } from './databases/index.mjs'
import { ensurePeers } from './peers/install.mjs'
import { buildSystems, redisReachable } from './systems.mjs'
import { formatRow } from './table.mjs'
import { targetLines } from './targets.mjs'

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
const database = DATABASES[options.database]
// The peers run on PostgreSQL (BullMQ on Redis) only: on another database they are shown as n/a.
const wantsPeers = database.ID === 'postgresql' && options.systems.some((id) => ['pg-boss', 'graphile-worker', 'bullmq'].includes(id))
const peers = wantsPeers ? await ensurePeers() : { versions: {}, reason: 'not selected' }
const redisUp = wantsPeers && options.systems.includes('bullmq') ? await redisReachable() : false
const apscheduler = options.systems.includes('apscheduler') ? await aps.detectApscheduler(database) : { available: false, reason: 'not selected' }
const entries = await buildSystems({ database, selected: options.systems, peers, apscheduler, redisUp, quick: options.quick, sizes: options.sizes })
const meta = {
  date: new Date().toISOString(),
  mode: options.quick ? 'quick' : 'full',
  repeats: options.repeats,
  scale: options.scale,
  commit: process.env.BENCH_COMMIT ?? gitCommit(),
  machine: `${nproc} cores (nproc), ${cpuModel}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at start`,
  database: database.ID,
  server: await database.serverVersion(),
  node: process.version,
  peers: peers.versions,
  apscheduler: apscheduler.available ? apscheduler.version : apscheduler.reason,
  lag: 'fire lag = handler start (process clock) − scheduled run time (ctx.runTime; pg-boss and graphile-worker: the startAfter/runAt given; BullMQ: creation + delay, or the scheduler slot; APScheduler: scheduled_run_time)'
}
process.stderr.write(`bench: ${meta.mode} run on ${meta.server}, rows ${options.rows.join(', ')}, ${options.repeats} repeat(s); ${meta.machine}\n`)

/** The lead before a burst's due instant: room for the adds; retried ×4 when a system overran it. */
const leadMs = (jobs) => 2000 + Math.round(jobs * 0.3)

const results = {}
let failed = false
for (const row of options.rows) {
  const sizes = row === 'burst' || row === 'history'
    ? { ...options.sizes[row], leadMs: leadMs(options.sizes[row].jobs) }
    // scale-out adds its jobs three times (one phase per process count): a shorter lead, same retry.
    : row === 'scale-out' ? { ...options.sizes[row], leadMs: 500 + options.sizes[row].jobs } : options.sizes[row]
  const lines = {}
  const runners = []
  for (const entry of entries) {
    const how = entry.rows[row]
    lines[entry.key] = { runs: [], na: typeof how === 'string' && how !== 'run' ? how : null, missing: entry.missing ?? null }
    if (lines[entry.key].na !== null || entry.missing) continue
    runners.push({ entry, how })
  }
  const prepared = {}
  try {
    for (const { entry, how } of runners) {
      if (entry.prepare !== undefined) {
        try {
          prepared[entry.key] = await entry.prepare(row, sizes)
        } catch (error) {
          failed = true
          process.stderr.write(`bench: ${row} / ${entry.label} preparation FAILED: ${error.stack ?? error}\n`)
          lines[entry.key].runs.push({ error: String(error.message ?? error) })
        }
      } else prepared[entry.key] = { run: (s) => how(row, s), close: async () => {} }
    }
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      for (const { entry } of runners) {
        if (prepared[entry.key] === undefined) continue
        const result = await attempt(row, entry, repeat, (s) => prepared[entry.key].run(s), sizes)
        lines[entry.key].runs.push(result)
        if (entry.system === 'ours' && (result.error !== undefined || result.exactlyOnce === false)) {
          failed = true
          if (result.exactlyOnce === false) process.stderr.write(`bench: ${row}: exactly-once check FAILED: ${result.note}\n`)
        }
      }
    }
  } finally {
    for (const p of Object.values(prepared)) await p.close().catch(() => {})
  }
  results[row] = { sizes, lines }
}

async function attempt (row, entry, repeat, run, sizes) {
  const name = `${row} / ${entry.label} #${repeat}`
  process.stderr.write(`bench: ${name} ...\n`)
  const started = Date.now()
  try {
    let result
    try {
      result = await run(sizes)
    } catch (error) {
      if (sizes.leadMs === undefined || !/past the due instant/.test(String(error.message))) throw error
      // "adding N jobs took S s, past the due instant": the retry leaves half as much again.
      const took = Number(/took ([\d.]+) ?s/.exec(String(error.message))?.[1] ?? 0) * 1000
      const lead = Math.round(Math.max(sizes.leadMs * 4, took * 1.5 + 2000))
      process.stderr.write(`bench: ${name}: the adds overran the due instant; retrying with a lead of ${lead} ms\n`)
      result = await run({ ...sizes, leadMs: lead })
    }
    process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s${result.note ? ` (${result.note})` : ''}\n`)
    return result
  } catch (error) {
    process.stderr.write(`bench: ${name} FAILED: ${error.stack ?? error}\n`)
    return { error: String(error.message ?? error).split('\n')[0] }
  }
}

const out = [
  '',
  `${meta.mode} run, ${meta.date}, commit ${meta.commit}; ${meta.machine}; ${meta.server}; Node ${meta.node}; ` +
    `${options.repeats} repeat(s) per scenario, median (range)${options.scale !== 1 ? `; sizes scaled by ${options.scale}` : ''}.`,
  `${meta.lag}.`,
  ''
]
for (const row of options.rows) out.push(...formatRow(row, results[row], entries), '')
out.push(...targetLines(results, entries, { full: !options.quick }), '')
out.push('Settings (every system runs in a process of its own, on a fresh database of the same server):', '')
for (const entry of entries) {
  out.push(`- **${entry.label}**: ${entry.missing ? `missing: ${entry.missing}` : entry.settings}${entry.trades ? `. Trades away: ${entry.trades}` : ''}.`)
}
const plan = results.stored?.lines.ours?.runs.find((r) => r.plan)?.plan
if (plan) out.push('', `claim query plan (stored row, ${results.stored.sizes.jobs.toLocaleString('en-US')} stored jobs; EXPLAIN ANALYZE, rolled back):`, '```', plan, '```')
process.stdout.write(`${out.join('\n')}\n`)

if (options.json !== null) writeFileSync(options.json, `${JSON.stringify({ meta, results }, null, 2)}\n`)
process.exit(failed ? 1 : 0)
