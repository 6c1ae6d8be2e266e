/**
 * This project's side of the bench: a MikroORM on the scenario's database (the driver of the
 * database its URL names: databases/index.mjs) and a `Scheduler` from the built package (`dist/`),
 * with the options the table header prints; the store is the one the library picks for that
 * driver. The store's SQL port is wrapped only to remember the claim query's text and parameters,
 * so the scale row can EXPLAIN the real query.
 */
import { MikroOrmJobStore, Scheduler, SchedulerJob, SchedulerJobExecution } from '../../dist/index.js'
import { sqlClientFromOrm } from '../../dist/sql/from-orm.js'
import { databaseOf } from '../databases/index.mjs'

/**
 * Legitimate user options, generous for throughput; printed in the table header. Override with
 * BENCH_SCHEDULER_OPTIONS='{"batchSize":500}' and BENCH_POOL_MAX=20 to compare settings.
 */
export const SCHEDULER_OPTIONS = { maxConcurrency: 1000, batchSize: 1000, ...JSON.parse(process.env.BENCH_SCHEDULER_OPTIONS ?? '{}') }
export const POOL = { min: 0, max: Number(process.env.BENCH_POOL_MAX ?? 10) }

/**
 * { orm, store, scheduler, seen, query(text, values?) → rows, close() } on the scenario's database
 * `url` (postgres://, mysql:// or file:); `options` override SCHEDULER_OPTIONS. `query` is the
 * harness's own connection (the database module's placeholders), never the scheduler's.
 */
export async function openScheduler (url, options = {}) {
  const database = databaseOf(url)
  const orm = await database.openOrm(url, { entities: [SchedulerJob, SchedulerJobExecution], pool: POOL })
  const own = database.openQuery(url, orm)
  const seen = { claimSql: null, claimValues: null }
  const sql = recordClaimSql(await sqlClientFromOrm(orm), seen)
  const store = new MikroOrmJobStore(sql)
  const scheduler = new Scheduler({ store, orm, ...SCHEDULER_OPTIONS, ...options })
  return {
    orm,
    store,
    scheduler,
    seen,
    /** One query outside the scheduler (assertions, EXPLAIN). */
    query: own.query,
    close: async () => {
      await scheduler.shutdown()
      await own.close()
      await orm.close(true)
    }
  }
}

/** The claim of due jobs: locks `scheduler_job` rows by `next_run_time` (not other SKIP LOCKED queries). */
const isDueJobClaim = (text) => text.includes('SKIP LOCKED') && /next_run_time\s*<=/.test(text)

/**
 * BENCH_TRACE_SQL=1: per statement (first 60 characters, whitespace folded) the count, total and
 * worst latency through the store's SQL port, printed to stderr when the process exits (for
 * profiling; off by default since it adds a timer per query).
 */
const trace = process.env.BENCH_TRACE_SQL === '1' ? new Map() : null
if (trace !== null) {
  process.on('exit', () => {
    const rows = [...trace.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs)
    for (const [text, t] of rows) process.stderr.write(`sql ${String(t.count).padStart(6)} × mean ${(t.totalMs / t.count).toFixed(1).padStart(7)} ms, max ${t.maxMs.toFixed(0).padStart(5)} ms  ${text}\n`)
  })
}

/**
 * BENCH_TIMELINE=1: every statement through the store's SQL port with its start, end (milliseconds
 * from the first due-job claim), rows answered and first 50 characters, printed to stderr when the
 * process exits: where a burst's time goes, claim by claim (for profiling; off by default).
 */
const timeline = process.env.BENCH_TIMELINE === '1' ? [] : null
if (timeline !== null) {
  process.on('exit', () => {
    const t0 = timeline.find((entry) => isDueJobClaim(entry.text))?.start ?? 0
    for (const { start, end, rows, text } of timeline) {
      if (start < t0 - 50) continue
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 50)
      process.stderr.write(`tl ${(start - t0).toFixed(1).padStart(8)} ${(end - t0).toFixed(1).padStart(8)} ${String(rows).padStart(5)} ${key}\n`)
    }
  })
}

function traced (executor, text, values) {
  if (timeline !== null) {
    const entry = { start: performance.now(), end: 0, rows: 0, text }
    timeline.push(entry)
    const result = executor.query(text, values)
    result.then((rows) => { entry.end = performance.now(); entry.rows = rows?.length ?? 0 }, () => { entry.end = performance.now() })
    return result
  }
  if (trace === null) return executor.query(text, values)
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 60)
  const started = performance.now()
  const done = () => {
    const ms = performance.now() - started
    const t = trace.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 }
    trace.set(key, { count: t.count + 1, totalMs: t.totalMs + ms, maxMs: Math.max(t.maxMs, ms) })
  }
  const result = executor.query(text, values)
  result.then(done, done)
  return result
}

function recordClaimSql (sql, seen) {
  const spy = (executor) => ({
    query: (text, values) => {
      if (seen.claimSql === null && isDueJobClaim(text)) Object.assign(seen, { claimSql: text, claimValues: values })
      return traced(executor, text, values)
    }
  })
  return {
    dialect: sql.dialect,
    query: spy(sql).query,
    transaction: (fn) => sql.transaction((tx) => fn(spy(tx))),
    openSession: () => sql.openSession()
  }
}

/** Counts outcomes and resolves `whenExecuted(n)` once n executions are recorded `success`. */
export function countOutcomes (scheduler) {
  const counts = { executed: 0, failed: 0, lastExecutedAt: 0 }
  scheduler.on('job:executed', () => { counts.executed++; counts.lastExecutedAt = Date.now() })
  for (const event of ['job:error', 'job:missed', 'job:max_instances', 'job:abandoned']) {
    scheduler.on(event, ({ jobId, execution }) => {
      counts.failed++
      if (counts.failed <= 3) process.stderr.write(`bench: ${event} ${jobId} ${execution.exception ?? ''}\n`)
    })
  }
  scheduler.on('scheduler:error', ({ error, during }) => process.stderr.write(`bench: scheduler error during ${during}: ${error.message}\n`))
  return counts
}
