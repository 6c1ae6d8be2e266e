/**
 * The soak: exactly-once under failure, measured (issue #3).
 *
 *   npm run soak -- --workers 4 --jobs 200 --interval 1 --seconds 300 --kill-every 10 [--freeze] [--pg-restart]
 *
 * Creates a fresh database, starts `--workers` real worker processes (`soak/worker.ts`, lock
 * 'auto') that all register the same `--jobs` interval jobs (every `--interval` s between a fixed
 * start and end, no coalescing, no misfire limit: every occurrence must run), and every
 * `--kill-every` seconds kills the leader with SIGKILL (with `--freeze`: alternately SIGKILL and
 * SIGSTOP for `--freeze-seconds`, then SIGCONT). A killed worker is replaced at once, so the
 * cluster keeps `--workers` processes. With `--pg-restart`, PostgreSQL is restarted once halfway.
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
 * - stuck: rows still `running` after their lease;
 * - failover_max_ms: the worst, over kills and freezes, of the time from the signal to the first
 *   execution started (`started_at`, database clock; the database is assumed on this machine's
 *   clock) by another process;
 * - effects_duplicated: occurrences whose handler recorded two effects in the ledger, whatever the
 *   table says;
 * - effects_missing: rows whose status says the handler ran (success / error / timeout) with no
 *   effect in the ledger (an abandoned row may have zero or one);
 * - late_outcomes: abandoned rows for which a late outcome was recorded (`late_status`; 0 while the
 *   schema has no such column).
 *
 * The line before it adds `unexpected_occurrences` (rows or effects for occurrences the arithmetic
 * does not define) and `effects_unmatched` (effects with no row, or for a missed row).
 *
 * Exits 1 when duplicates, lost, stuck, effects_duplicated, effects_missing, unexpected_occurrences
 * or effects_unmatched is not 0, or a worker crashed by itself.
 *
 * Other options: --freeze-seconds (default 5), --lease-ms (default 5000: killed executions are
 * abandoned within seconds), --leader-stale-ms / --leader-heartbeat-ms (passed to the workers when
 * given), --database-url (server to create the soak database on; default DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/postgres), --keep-db, --library (module for the workers;
 * default the built package), --pg-restart-cmd (default
 * `pg_ctlcluster --skip-systemctl-redirect 15 main restart`), --quiet.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { createSoakLedger, LEDGER_ENV, lateOutcomes, ledgerEvidence, removeSoakLedger } from './ledger.ts'
import { expectedOccurrences, expectedRunTimes, unexpectedOccurrences } from './oracle.ts'

/** Milliseconds from the soak's start to the first fire time: room for every worker to start. */
const START_MARGIN_MS = 20_000

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const run = promisify(execFile)

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  workers: number
  jobs: number
  interval: number
  seconds: number
  killEvery: number
  freeze: boolean
  freezeSeconds: number
  pgRestart: boolean
  pgRestartCmd: string
  leaseMs: number
  leaderStaleMs: number | null
  leaderHeartbeatMs: number | null
  databaseUrl: string
  keepDb: boolean
  library: string
  quiet: boolean
}

function parseOptions (argv: string[]): Options {
  const options: Options = {
    workers: 3,
    jobs: 20,
    interval: 1,
    seconds: 20,
    killEvery: 5,
    freeze: false,
    freezeSeconds: 5,
    pgRestart: false,
    pgRestartCmd: 'pg_ctlcluster --skip-systemctl-redirect 15 main restart',
    leaseMs: 5000,
    leaderStaleMs: null,
    leaderHeartbeatMs: null,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    keepDb: false,
    library: '',
    quiet: false
  }
  const numbers: Record<string, keyof Options> = {
    '--workers': 'workers',
    '--jobs': 'jobs',
    '--interval': 'interval',
    '--seconds': 'seconds',
    '--kill-every': 'killEvery',
    '--freeze-seconds': 'freezeSeconds',
    '--lease-ms': 'leaseMs',
    '--leader-stale-ms': 'leaderStaleMs',
    '--leader-heartbeat-ms': 'leaderHeartbeatMs'
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const [name, inline] = arg.includes('=') ? arg.split(/=(.*)/s) as [string, string] : [arg, undefined]
    const value = (): string => {
      const given = inline ?? argv[++i]
      if (given === undefined) throw new Error(`${name} needs a value`)
      return given
    }
    if (name in numbers) {
      const n = Number(value())
      if (!Number.isFinite(n) || n < 0 || (name !== '--kill-every' && n <= 0)) throw new Error(`${name} must be a positive number`)
      ;(options as unknown as Record<string, unknown>)[numbers[name] as string] = n
    } else if (name === '--freeze') options.freeze = true
    else if (name === '--pg-restart') options.pgRestart = true
    else if (name === '--pg-restart-cmd') options.pgRestartCmd = value()
    else if (name === '--database-url') options.databaseUrl = value()
    else if (name === '--keep-db') options.keepDb = true
    else if (name === '--library') options.library = value()
    else if (name === '--quiet') options.quiet = true
    else throw new Error(`unknown option ${arg}; see the header of soak/run.ts`)
  }
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error('--workers must be a whole number ≥ 1')
  if (!Number.isInteger(options.jobs)) throw new Error('--jobs must be a whole number')
  return options
}

// ---------------------------------------------------------------------------------------------
// Workers

interface Worker {
  name: string
  child: ChildProcess
  nodeId: string
  reports: Array<Record<string, unknown>>
  output: string[]
  frozen: boolean
  /** Killed or stopped by the soak (not a crash). */
  stoppedBySoak: boolean
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

let log = (line: string): void => { process.stderr.write(`${line}\n`) }

function startWorker (n: number, env: NodeJS.ProcessEnv): Worker {
  const child = spawn(process.execPath, [...process.execArgv, WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const worker: Worker = {
    name: `worker ${n}`,
    child,
    nodeId: '',
    reports: [],
    output: [],
    frozen: false,
    stoppedBySoak: false,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }
  const onLine = (line: string, stderr: boolean): void => {
    if (!stderr) {
      try {
        const report = JSON.parse(line) as Record<string, unknown>
        worker.reports.push(report)
        if (report.event === 'ready') worker.nodeId = String(report.nodeId)
        if (report.event === 'leader' || report.event === 'lost' || report.event === 'uncaught') log(`${worker.name} (pid ${child.pid}): ${report.event}${report.reason === undefined ? '' : ` (${String(report.reason)})`}`)
        return
      } catch {}
    }
    worker.output.push(line)
    if (worker.output.length > 200) worker.output.shift()
  }
  lines(child.stdout, (line) => onLine(line, false))
  lines(child.stderr, (line) => onLine(line, true))
  void worker.exit.then(({ code, signal }) => {
    if (!worker.stoppedBySoak) log(`${worker.name} (pid ${child.pid}) exited by itself: code ${code} signal ${signal}\n${worker.output.slice(-20).join('\n')}`)
  })
  return worker
}

function lines (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return
  let buffered = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      if (line.trim() !== '') onLine(line)
    }
  })
}

const alive = (worker: Worker): boolean => worker.child.exitCode === null && worker.child.signalCode === null

function leads (worker: Worker): boolean {
  const last = worker.reports.filter((report) => report.event === 'leader' || report.event === 'lost').at(-1)
  return alive(worker) && !worker.frozen && last?.event === 'leader'
}

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

async function benchmarksRunning (): Promise<boolean> {
  try {
    const { stdout } = await run('pgrep', ['-f', 'bench/'])
    return stdout.trim() !== ''
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------
// The soak

interface Disruption { kind: 'kill' | 'freeze', at: number, victim: string, worker: string }

async function main (): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  if (options.quiet) log = () => {}
  const library = options.library === '' ? null : options.library

  const name = `fms_soak_${randomBytes(4).toString('hex')}`
  await sql(options.databaseUrl, `CREATE DATABASE "${name}"`)
  const url = new URL(options.databaseUrl)
  url.pathname = `/${name}`
  const dbUrl = url.toString()

  const ledger = createSoakLedger()
  const workers: Worker[] = []
  const disruptions: Disruption[] = []
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
    const spawnWorker = (): Worker => {
      const worker = startWorker(++started, env)
      workers.push(worker)
      return worker
    }
    // The first worker stores the jobs; the others start once it is ready (no start-up race on the DDL).
    const first = spawnWorker()
    // Generous: on a loaded machine a worker can take a minute to start; the occurrences it finds overdue still run.
    if (!(await waitFor('the first worker', async () => first.nodeId !== '' || !alive(first), 180_000)) || !alive(first)) {
      throw new Error(`the first worker did not start:\n${first.output.join('\n')}`)
    }
    for (let i = 1; i < options.workers; i++) spawnWorker()
    await waitFor('every worker', async () => workers.every((worker) => worker.nodeId !== '' || !alive(worker)), 180_000)
    if (Date.now() > start.getTime()) log(`soak: the workers were ready only ${Date.now() - start.getTime()} ms after the window opened`)

    // Disruptions, every --kill-every seconds from the start until the end.
    const restartAt = options.pgRestart ? start.getTime() + options.seconds * 500 + 1000 : null
    let restarted = false
    const replaced = new Set<Worker>()
    let nextDisruption = options.killEvery > 0 ? start.getTime() + options.killEvery * 1000 : Infinity
    let count = 0
    while (Date.now() < end.getTime()) {
      // Keep --workers processes: replace any that died (killed by us or crashed).
      for (const worker of [...workers]) {
        if (!alive(worker) && !worker.stoppedBySoak && !replaced.has(worker)) {
          replaced.add(worker)
          spawnWorker()
        }
      }
      if (restartAt !== null && !restarted && Date.now() >= restartAt) {
        restarted = true
        while (await benchmarksRunning()) { log('soak: waiting for a benchmark to finish before restarting PostgreSQL'); await sleep(5000) }
        log(`soak: restarting PostgreSQL (${options.pgRestartCmd})`)
        const [cmd, ...args] = options.pgRestartCmd.split(' ') as [string, ...string[]]
        await run(cmd, args).catch((error: Error) => log(`soak: restart command failed: ${error.message}`))
      }
      if (Date.now() >= nextDisruption) {
        const leader = workers.find(leads)
        if (leader === undefined) {
          await sleep(100)
          continue
        }
        const kind = options.freeze && count % 2 === 1 ? 'freeze' : 'kill'
        count++
        nextDisruption += options.killEvery * 1000
        const at = Date.now()
        disruptions.push({ kind, at, victim: leader.nodeId, worker: leader.name })
        if (kind === 'kill') {
          leader.stoppedBySoak = true
          leader.child.kill('SIGKILL')
          log(`soak: killed the leader, ${leader.name} (pid ${leader.child.pid})`)
          spawnWorker()
        } else {
          leader.frozen = true
          leader.child.kill('SIGSTOP')
          log(`soak: froze the leader, ${leader.name} (pid ${leader.child.pid}), for ${options.freezeSeconds} s`)
          setTimeout(() => {
            leader.frozen = false
            if (alive(leader)) leader.child.kill('SIGCONT')
          }, options.freezeSeconds * 1000)
        }
      }
      await sleep(50)
    }

    // Settle: every occurrence claimed and no execution of a live worker still running.
    const freezeLeft = options.freeze ? options.freezeSeconds * 1000 : 0
    // A job row whose next run time is still null may not be scheduled yet: wait for the last occurrence's row too.
    const lastFireTime = new Date(fireTimes.at(-1) ?? end.getTime())
    await waitFor('every occurrence to be claimed', async () => {
      const [row] = await sql<{ n: number }>(dbUrl, `select count(*)::int as n from scheduler_job j where j.next_run_time is not null
        or not exists (select 1 from scheduler_job_execution e where e.job_id = j.id and e.run_time >= $1)`, [lastFireTime])
      return row?.n === 0
    }, 60_000 + freezeLeft)
    for (const worker of workers) if (worker.frozen && alive(worker)) { worker.frozen = false; worker.child.kill('SIGCONT') }
    const living = workers.filter(alive)
    const last = living.at(-1)
    for (const worker of living.slice(0, -1)) {
      worker.stoppedBySoak = true
      worker.child.kill('SIGTERM')
    }
    await Promise.all(living.slice(0, -1).map(async (worker) => worker.exit))
    // The last worker's reaper marks executions of killed workers abandoned once their lease expires.
    await waitFor('every execution to finish or be abandoned', async () => {
      const [row] = await retrying('count running', async () => sql<{ n: number }>(dbUrl, "select count(*)::int as n from scheduler_job_execution where status = 'running'"))
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
    // Every worker is stopped and every lease has had time to expire: a row still running is stuck.
    const stuck = status('running')

    const failovers = disruptions.map((disruption) => {
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
    console.log(`soak: disruptions=${disruptions.length} (kills=${disruptions.filter((d) => d.kind === 'kill').length} freezes=${disruptions.filter((d) => d.kind === 'freeze').length}) pg_restart=${restarted} worker_processes=${workers.length} crashes=${crashes} scheduler_errors=${errors} unexpected_occurrences=${unexpected.length} effects=${effects.effects} effects_unmatched=${effectErrors.length}`)
    console.log(`soak: workers=${options.workers} occurrences=${expected.length} executed=${executed} duplicates=${duplicates.size} lost=${lost.length} missed=${status('missed')} abandoned=${status('abandoned')} stuck=${stuck} failover_max_ms=${failoverMax} effects_duplicated=${effects.duplicated.length} effects_missing=${effects.missing.length} late_outcomes=${late}`)
    const failed = duplicates.size > 0 || lost.length > 0 || stuck > 0 || crashes > 0 || unexpected.length > 0 ||
      effects.duplicated.length > 0 || effects.missing.length > 0 || effectErrors.length > 0
    return failed ? 1 : 0
  } finally {
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
