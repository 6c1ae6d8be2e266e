/**
 * The soak: exactly-once under failure, measured (issue #3).
 *
 *   npm run soak -- --workers 4 --jobs 200 --interval 1 --seconds 600 --kill-every 15 \
 *     --freeze-every 45 --net-faults --pg-restart
 *
 * Creates a fresh database, starts `--workers` real worker processes (`soak/worker.ts`, lock
 * 'auto') that all register the same `--jobs` interval jobs (every `--interval` s between a fixed
 * start and end, no coalescing, no misfire limit: every occurrence must run), and disrupts them
 * (soak/disruptions.ts), each on its own schedule and all combinable:
 *
 * - `--kill-every N`: SIGKILL the leader every N s (default 5; 0: never). A killed worker is
 *   replaced at once, so the cluster keeps `--workers` processes;
 * - `--kill-workers`: also SIGKILL a random worker that does not lead, every `--kill-every` s,
 *   half a period after each leader kill. Every worker runs handlers (the leader plans, all
 *   execute), so the victim dies holding runs: they must end `abandoned` once their lease
 *   expires, and the queued runs it would have taken run elsewhere;
 * - `--freeze-every N`: SIGSTOP the leader every N s for `--freeze-seconds` (default 5), then
 *   SIGCONT (the older `--freeze` instead makes every other kill a freeze);
 * - `--net-faults`: every `--net-fault-every` s (default 20) a random worker, whose pool and
 *   session each go through a TCP fault proxy of their own, gets in turn: every connection
 *   blackholed (half-open: nothing arrives either way), `--net-latency-ms` (default 200) of latency
 *   each way, each for `--net-fault-seconds` (default 10) and then healed, or every connection reset;
 * - `--pg-restart`: PostgreSQL is restarted once halfway.
 *
 * After the last occurrence it stops the workers gracefully (one stays until every lease has
 * expired or been reaped), compares the execution table with the occurrences that must exist
 * (soak/oracle.ts: `start + k × interval` by plain arithmetic, not the library's trigger code)
 * and with the effect ledger every handler appended to (soak/ledger.ts), and prints as its last line:
 *
 *   soak: workers=W occurrences=N executed=E duplicates=D lost=L missed=M abandoned=A stuck=S failover_max_ms=F effects_duplicated=X effects_missing=Y late_outcomes=Z
 *
 * - executed: expected occurrences whose handler ran to an outcome (success / error / timeout);
 * - duplicates: occurrences with more than one row, or whose handler started more than once
 *   (counted from every worker's stdout, killed ones included);
 * - lost: expected occurrences with no row at all;
 * - missed / abandoned: rows with that status (abandoned: their owner was killed mid-run);
 * - stuck: rows still `running` after their lease, or still `queued` once every worker has stopped
 *   (a queued run nobody started);
 * - failover_max_ms: the worst, over kills, freezes and blackholes of the leader, of the time from
 *   the disruption to the first execution started (`started_at`, database clock; the database is
 *   assumed on this machine's clock) by another process;
 * - effects_duplicated: occurrences whose handler recorded two effects in the ledger, whatever the
 *   table says;
 * - effects_missing: rows whose status says the handler ran (success / error / timeout) with no
 *   effect in the ledger (an abandoned row may have zero or one);
 * - late_outcomes: abandoned rows for which a late outcome was recorded (`late_status`; 0 while the
 *   schema has no such column).
 *
 * The line before it counts the disruptions by kind and adds `unexpected_occurrences` (rows or effects for occurrences the arithmetic
 * does not define) and `effects_unmatched` (effects with no row, or for a missed row).
 *
 * Exits 1 when duplicates, lost, stuck, effects_duplicated, effects_missing, unexpected_occurrences
 * or effects_unmatched is not 0, or a worker crashed by itself.
 *
 * Other options (soak/options.ts): --lease-ms (default 5000: killed executions are
 * abandoned within seconds), --max-concurrency (the workers' maxConcurrency; below the number of
 * jobs, the leader starts that many runs itself and queues the rest for the others, so
 * `--kill-workers` kills workers holding runs), --leader-stale-ms / --leader-heartbeat-ms (passed to the workers when
 * given), --database-url (server to create the soak database on; default DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/postgres), --keep-db, --library (module for the workers;
 * default the built package), --pg-restart-cmd (default
 * `pg_ctlcluster --skip-systemctl-redirect 15 main restart`), --quiet.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Disruptor } from './disruptions.ts'
import { createSoakLedger, LEDGER_ENV, lateOutcomes, ledgerEvidence, removeSoakLedger } from './ledger.ts'
import { parseSoakOptions } from './options.ts'
import { expectedOccurrences, expectedRunTimes, unexpectedOccurrences } from './oracle.ts'
import { alive, startSoakWorker, type SoakWorker } from './workers.ts'

/** Milliseconds from the soak's start to the first fire time: room for every worker to start. */
const START_MARGIN_MS = 20_000

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let log = (line: string): void => { process.stderr.write(`${line}\n`) }

// ---------------------------------------------------------------------------------------------
// Database

async function withClient<T> (url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

async function sql<Row = Record<string, any>> (url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  return withClient(url, async (client) => (await client.query(text, values)).rows as Row[])
}

/** Retries `fn` while the database is unreachable (during --pg-restart). */
async function retrying<T> (what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`)
      await sleep(500)
    }
  }
}

async function waitFor (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true
    await sleep(250)
  }
  log(`soak: gave up waiting for ${what} after ${timeoutMs} ms`)
  return false
}

// ---------------------------------------------------------------------------------------------
// The soak

async function main (): Promise<number> {
  const options = parseSoakOptions(process.argv.slice(2))
  if (options.quiet) log = () => {}
  const library = options.library === '' ? null : options.library

  const name = `fms_soak_${randomBytes(4).toString('hex')}`
  await sql(options.databaseUrl, `CREATE DATABASE "${name}"`)
  const url = new URL(options.databaseUrl)
  url.pathname = `/${name}`
  const dbUrl = url.toString()

  const ledger = createSoakLedger()
  const workers: SoakWorker[] = []
  let disruptor: Disruptor | null = null
  let crashes = 0
  try {
    const [{ now }] = await sql<{ now: Date }>(dbUrl, 'select now() as now') as [{ now: Date }]
    // The window opens after every worker has had time to start (a worker loading TypeScript
    // takes several seconds): a kill before the standbys are up would measure their start-up,
    // not a failover, and fire times before the jobs are registered are not expected.
    const start = new Date(Math.ceil(now.getTime() / 1000) * 1000 + START_MARGIN_MS)
    const end = new Date(start.getTime() + options.seconds * 1000)
    // The oracle: run times by arithmetic from the fixed start date, not from the library's trigger.
    const fireTimes = expectedRunTimes(start.getTime(), end.getTime(), options.interval * 1000)
    log(`soak: database ${name}; ${options.workers} workers, ${options.jobs} jobs every ${options.interval} s from ${start.toISOString()} to ${end.toISOString()} (${fireTimes.length} occurrences each)`)

    const schedulerOptions: Record<string, unknown> = { leaseMs: options.leaseMs }
    if (options.leaderStaleMs !== null) schedulerOptions.leaderStaleMs = options.leaderStaleMs
    if (options.leaderHeartbeatMs !== null) schedulerOptions.leaderHeartbeatMs = options.leaderHeartbeatMs
    if (options.maxConcurrency !== null) schedulerOptions.maxConcurrency = options.maxConcurrency
    const env = {
      ...process.env,
      DATABASE_URL: dbUrl,
      SOAK_JOBS: String(options.jobs),
      SOAK_INTERVAL: String(options.interval),
      SOAK_START: start.toISOString(),
      SOAK_END: end.toISOString(),
      SOAK_OPTIONS: JSON.stringify(schedulerOptions),
      SOAK_LIBRARY: library ?? '',
      [LEDGER_ENV]: ledger
    }
    let started = 0
    const spawnWorker = async (): Promise<SoakWorker> => {
      const worker = await startSoakWorker(++started, env, options.netFaults, log)
      workers.push(worker)
      return worker
    }
    // The first worker stores the jobs; the others start once it is ready (no start-up race on the DDL).
    const first = await spawnWorker()
    // Generous: on a loaded machine a worker can take a minute to start; the occurrences it finds overdue still run.
    if (!(await waitFor('the first worker', async () => first.nodeId !== '' || !alive(first), 180_000)) || !alive(first)) {
      throw new Error(`the first worker did not start:\n${first.output.join('\n')}`)
    }
    for (let i = 1; i < options.workers; i++) await spawnWorker()
    await waitFor('every worker', async () => workers.every((worker) => worker.nodeId !== '' || !alive(worker)), 180_000)
    if (Date.now() > start.getTime()) log(`soak: the workers were ready only ${Date.now() - start.getTime()} ms after the window opened`)

    // Disruptions, each on its schedule from the start until the end (soak/disruptions.ts).
    const replaced = new Set<SoakWorker>()
    const chaos = new Disruptor(options, start.getTime(), () => workers, spawnWorker, log)
    disruptor = chaos
    while (Date.now() < end.getTime()) {
      // Keep --workers processes: replace any that died by itself (a killed leader is replaced at once).
      for (const worker of [...workers]) {
        if (!alive(worker) && !worker.stoppedBySoak && !replaced.has(worker)) {
          replaced.add(worker)
          await spawnWorker()
        }
      }
      await chaos.tick()
      await sleep(50)
    }
    const disruptions = chaos.disruptions

    // Settle: every occurrence claimed and no execution of a live worker still running.
    const freezeLeft = options.freeze || options.freezeEvery > 0 ? options.freezeSeconds * 1000 : 0
    const faultLeft = options.netFaults ? options.netFaultSeconds * 1000 : 0
    // A job row whose next run time is still null may not be scheduled yet: wait for the last occurrence's row too.
    const lastFireTime = new Date(fireTimes.at(-1) ?? end.getTime())
    await waitFor('every occurrence to be claimed', async () => {
      const [row] = await sql<{ n: number }>(dbUrl, `select count(*)::int as n from scheduler_job j where j.next_run_time is not null
        or not exists (select 1 from scheduler_job_execution e where e.job_id = j.id and e.run_time >= $1)`, [lastFireTime])
      return row?.n === 0
    }, 60_000 + freezeLeft + faultLeft)
    chaos.endAll()
    const living = workers.filter(alive)
    const last = living.at(-1)
    for (const worker of living.slice(0, -1)) {
      worker.stoppedBySoak = true
      worker.child.kill('SIGTERM')
    }
    await Promise.all(living.slice(0, -1).map(async (worker) => worker.exit))
    // The last worker's reaper marks executions of killed workers abandoned once their lease expires.
    // Queued runs too: the last worker starts what the others left queued.
    await waitFor('every execution to finish or be abandoned', async () => {
      const [row] = await retrying('count running', async () => sql<{ n: number }>(dbUrl, "select count(*)::int as n from scheduler_job_execution where status in ('running', 'queued')"))
      return row?.n === 0
    }, options.leaseMs * 3 + 15_000)
    if (last !== undefined) {
      last.stoppedBySoak = true
      last.child.kill('SIGTERM')
      await last.exit
    }

    // Compare.
    const rows = await sql<{ job_id: string, run_time: Date, status: string, owner: string | null, started_at: Date | null, lease_until: Date | null, expired: boolean }>(dbUrl,
      `select job_id, run_time, status, owner, started_at, lease_until, (lease_until is null or lease_until < now()) as expired
       from scheduler_job_execution`)
    const byOccurrence = new Map<string, typeof rows>()
    for (const row of rows) {
      const key = `${row.job_id} ${row.run_time.toISOString()}`
      byOccurrence.set(key, [...(byOccurrence.get(key) ?? []), row])
    }
    const starts = new Map<string, number>()
    for (const worker of workers) {
      for (const report of worker.reports) {
        if (report.event !== 'run') continue
        const key = `${String(report.jobId)} ${String(report.runTime)}`
        starts.set(key, (starts.get(key) ?? 0) + 1)
      }
    }
    // A job added after its start date begins at its next fire time (APScheduler's rule), so on a
    // machine slow enough that the first worker registers the jobs late, the occurrences before that
    // are not due: they must not have a row, or be counted lost.
    const [registered] = await sql<{ at: Date | null }>(dbUrl, "select min(created_at) as at from scheduler_job where id like 'soak-%'")
    const registeredAt = registered?.at?.getTime() ?? start.getTime()
    const due = fireTimes.filter((time) => time >= registeredAt)
    if (due.length < fireTimes.length) log(`soak: the jobs were registered at ${new Date(registeredAt).toISOString()}, after ${fireTimes.length - due.length} of their fire times; those are not expected`)
    const expected = expectedOccurrences(options.jobs, due)
    const expectedSet = new Set(expected)
    const duplicates = new Set([...byOccurrence].filter(([, list]) => list.length > 1).map(([key]) => key))
    for (const [key, n] of starts) if (n > 1) duplicates.add(key)
    const lost = expected.filter((key) => !byOccurrence.has(key))
    const executed = expected.filter((key) => byOccurrence.get(key)?.some((row) => ['success', 'error', 'timeout'].includes(row.status)) === true).length
    // Evidence outside the table: the handlers' effects, judged against the rows and the oracle.
    const effects = ledgerEvidence(ledger, rows)
    const unexpected = unexpectedOccurrences(expectedSet, [...byOccurrence.keys(), ...effects.keys])
    const late = await retrying('count late outcomes', async () => lateOutcomes(async (text, values) => sql(dbUrl, text, values)))
    const status = (s: string): number => rows.filter((row) => row.status === s).length
    // Every worker is stopped and every lease has had time to expire: a row still running, or
    // still queued for a worker, is stuck.
    const stuck = status('running') + status('queued')

    const failovers = disruptions.filter((disruption) => disruption.leader && ['kill', 'freeze', 'blackhole'].includes(disruption.kind)).map((disruption) => {
      const after = rows.filter((row) => row.owner !== disruption.victim && row.started_at !== null && row.started_at.getTime() > disruption.at)
      const first = Math.min(...after.map((row) => (row.started_at as Date).getTime()))
      return { ...disruption, ms: Number.isFinite(first) ? first - disruption.at : null }
    })
    for (const failover of failovers) log(`soak: ${failover.kind} of ${failover.worker} at ${new Date(failover.at).toISOString()}: next execution by another process after ${failover.ms ?? 'none'} ms`)
    // Workers that died by themselves, or did not shut down cleanly on SIGTERM.
    crashes = 0
    for (const worker of workers) {
      const exit = alive(worker) ? null : await worker.exit
      if (!worker.stoppedBySoak || (exit !== null && exit.signal === null && exit.code !== 0)) crashes++
    }
    const measured = failovers.map((failover) => failover.ms).filter((ms): ms is number => ms !== null)
    const failoverMax = measured.length === 0 ? 0 : Math.max(...measured)
    if (unexpected.length > 0) log(`soak: ${unexpected.length} occurrences with a row or an effect that the arithmetic does not define, e.g. ${unexpected.slice(0, 3).join(', ')}`)
    if (effects.duplicated.length > 0) log(`soak: occurrences with two effects, e.g. ${effects.duplicated.slice(0, 5).join('; ')}`)
    if (effects.missing.length > 0) log(`soak: rows whose handler ran without an effect, e.g. ${effects.missing.slice(0, 5).join('; ')}`)
    const effectErrors = [...effects.unrecorded, ...effects.unexpected, ...effects.torn]
    if (effectErrors.length > 0) log(`soak: effects without a matching row, e.g. ${effectErrors.slice(0, 5).join('; ')}`)
    if (lost.length > 0) log(`soak: lost, e.g. ${lost.slice(0, 5).join(', ')}`)
    if (duplicates.size > 0) log(`soak: duplicates, e.g. ${[...duplicates].slice(0, 5).join(', ')}`)
    const errors = workers.reduce((n, worker) => n + worker.reports.filter((report) => report.event === 'scheduler-error').length, 0)
    const plural = { kill: 'kills', 'kill-worker': 'worker_kills', freeze: 'freezes', blackhole: 'blackholes', latency: 'latencies', reset: 'resets' } as const
    const kinds = (['kill', 'kill-worker', 'freeze', 'blackhole', 'latency', 'reset'] as const).map((kind) => `${plural[kind]}=${disruptions.filter((d) => d.kind === kind).length}`).join(' ')
    console.log(`soak: disruptions=${disruptions.length} (${kinds}) pg_restart=${chaos.restarted} worker_processes=${workers.length} crashes=${crashes} scheduler_errors=${errors} unexpected_occurrences=${unexpected.length} effects=${effects.effects} effects_unmatched=${effectErrors.length}`)
    console.log(`soak: workers=${options.workers} occurrences=${expected.length} executed=${executed} duplicates=${duplicates.size} lost=${lost.length} missed=${status('missed')} abandoned=${status('abandoned')} stuck=${stuck} failover_max_ms=${failoverMax} effects_duplicated=${effects.duplicated.length} effects_missing=${effects.missing.length} late_outcomes=${late}`)
    const failed = duplicates.size > 0 || lost.length > 0 || stuck > 0 || crashes > 0 || unexpected.length > 0 ||
      effects.duplicated.length > 0 || effects.missing.length > 0 || effectErrors.length > 0
    return failed ? 1 : 0
  } finally {
    disruptor?.endAll()
    for (const worker of workers) {
      if (alive(worker)) {
        worker.stoppedBySoak = true
        worker.child.kill('SIGKILL')
      }
    }
    if (!options.keepDb) removeSoakLedger(ledger)
    else log(`soak: kept the effect ledger ${ledger}`)
    if (!options.keepDb) {
      await retrying('drop the soak database', async () => sql(options.databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch((error: Error) => log(`soak: ${error.message}`))
    } else {
      log(`soak: kept database ${dbUrl}`)
    }
  }
}

main().then((code) => process.exit(code), (error: Error) => {
  process.stderr.write(`soak failed: ${error.stack ?? error.message}\n`)
  process.exit(2)
})
