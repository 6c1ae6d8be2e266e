/**
 * Real processes and a real PostgreSQL server for the failure tests (`test/failure/`): the child
 * process helpers of `test/cluster/processes.ts` (re-exported, so both suites share one
 * implementation), plus freezing a process (SIGSTOP/SIGCONT), reading what workers reported, and
 * stopping / starting / restarting the machine's PostgreSQL cluster.
 *
 * Restarting PostgreSQL affects everything on the machine, so `withPostgresDown` first waits for
 * any benchmark (`bench/`) to finish, always starts PostgreSQL again, and checks it accepts
 * connections before returning.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { pollUntil, startProcess, stopProcess, tail, waitForReport, type Worker } from '../cluster/processes.js'

export { pollUntil, startProcess, stopProcess, tail, waitForReport, type Worker }

const run = promisify(execFile)

/** True while the process has neither exited nor been killed. */
export function alive (worker: Worker): boolean {
  return worker.child.exitCode === null && worker.child.signalCode === null
}

/** Reports of `worker` with `event` (in the order printed). */
export function reportsOf (worker: Worker, event: string): Array<Record<string, unknown>> {
  return worker.reports.filter((report) => report.event === event)
}

/** Pino log lines of `worker` (JSON lines with `msg` and a numeric `level`). */
export function logLines (worker: Worker): Array<{ level: number, msg: string } & Record<string, unknown>> {
  return worker.reports.filter((report) => typeof report.msg === 'string' && typeof report.level === 'number') as Array<{ level: number, msg: string } & Record<string, unknown>>
}

/** SIGSTOP: the process keeps its sockets (and so its database sessions) but runs nothing. */
export function freeze (worker: Worker): void {
  worker.child.kill('SIGSTOP')
}

/** SIGCONT after `freeze`. */
export function resume (worker: Worker): void {
  if (alive(worker)) worker.child.kill('SIGCONT')
}

// ---------------------------------------------------------------------------------------------
// The machine's PostgreSQL server (Debian cluster 15/main unless PG_CLUSTER says otherwise).

const CLUSTER = (process.env.PG_CLUSTER ?? '15 main').split(' ')

async function pgCtl (action: 'start' | 'stop' | 'restart'): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, action, ...(action === 'stop' ? ['-m', 'fast'] : [])])
}

/** True when the server accepts connections (`pg_isready`). */
export async function postgresReady (): Promise<boolean> {
  try {
    await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'])
    return true
  } catch {
    return false
  }
}

/** Waits (up to `timeoutMs`) while a benchmark of `bench/` runs: a restart would spoil its figures. */
export async function waitForBenchmarks (timeoutMs = 10 * 60_000): Promise<void> {
  await pollUntil('no benchmark running (pgrep -f bench/)', async () => {
    try {
      const { stdout } = await run('pgrep', ['-f', 'bench/'])
      return stdout.trim() === ''
    } catch {
      return true // pgrep exits 1 when nothing matches
    }
  }, timeoutMs)
}

/**
 * Stops PostgreSQL, runs `during` (timed scenario steps while it is down), and starts it again,
 * whatever happens; resolves once it accepts connections. `downMs`: how long it stays down at least.
 */
export async function withPostgresDown<T> (downMs: number, during: () => Promise<T> = async () => undefined as T): Promise<{ result: T, stoppedAt: number, startedAt: number }> {
  await waitForBenchmarks()
  await pgCtl('stop')
  const stoppedAt = Date.now()
  try {
    const result = await during()
    const left = stoppedAt + downMs - Date.now()
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
    return { result, stoppedAt, startedAt: Date.now() }
  } finally {
    await ensurePostgresUp()
  }
}

/** Restarts PostgreSQL (waits for benchmarks first); resolves once it accepts connections. */
export async function restartPostgres (): Promise<void> {
  await waitForBenchmarks()
  try {
    // stop -m fast then start: `restart` alone can fail to start while the old postmaster still exits.
    await pgCtl('stop')
    await pgCtl('start')
  } finally {
    await ensurePostgresUp()
  }
}

/** Starts PostgreSQL unless it already runs, and waits until it accepts connections. */
export async function ensurePostgresUp (): Promise<void> {
  if (!(await postgresReady())) await pgCtl('start').catch(() => {})
  await pollUntil('PostgreSQL accepting connections again', postgresReady, 60_000)
}
