/**
 * The soak's worker processes (soak/worker.ts): started with their reports (JSON lines on stdout)
 * collected, and, with `--net-faults`, each behind two TCP fault proxies of its own (its pool and
 * its dedicated session: test/helpers/fault-proxy.ts), so a fault can be staged on one worker.
 */
import { createInterface } from 'node:readline'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startFaultProxy, targetOf, type FaultProxy } from '../test/helpers/fault-proxy.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

export interface SoakWorker {
  name: string
  child: ChildProcess
  nodeId: string
  reports: Array<Record<string, unknown>>
  output: string[]
  frozen: boolean
  /** Killed or stopped by the soak (not a crash). */
  stoppedBySoak: boolean
  /** The proxies in front of its pool and its session (`--net-faults`), else null. */
  proxies: { pool: FaultProxy, session: FaultProxy } | null
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export type SoakLog = (line: string) => void

/**
 * Starts worker `n` with `env` (its DATABASE_URL the soak database's). With `proxied`, its pool and
 * its session connect through fault proxies, closed when it exits.
 */
export async function startSoakWorker (n: number, env: NodeJS.ProcessEnv, proxied: boolean, log: SoakLog): Promise<SoakWorker> {
  let proxies: SoakWorker['proxies'] = null
  let workerEnv = env
  if (proxied) {
    const url = env.DATABASE_URL as string
    proxies = { pool: await startFaultProxy(targetOf(url)), session: await startFaultProxy(targetOf(url)) }
    const options = JSON.parse(env.SOAK_OPTIONS ?? '{}') as Record<string, unknown>
    workerEnv = { ...env, DATABASE_URL: proxies.pool.url(url), SOAK_OPTIONS: JSON.stringify({ ...options, sessionUrl: proxies.session.url(url) }) }
  }
  const child = spawn(process.execPath, [...process.execArgv, WORKER], { env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const worker: SoakWorker = {
    name: `worker ${n}`,
    child,
    nodeId: '',
    reports: [],
    output: [],
    frozen: false,
    stoppedBySoak: false,
    proxies,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }
  const onLine = (line: string, stderr: boolean): void => {
    if (!stderr) {
      try {
        const report = JSON.parse(line) as Record<string, unknown>
        worker.reports.push(report)
        if (report.event === 'ready') worker.nodeId = String(report.nodeId)
        if (report.event === 'leader' || report.event === 'lost') log(`${worker.name} (pid ${child.pid}): ${report.event}${report.reason === undefined ? '' : ` (${String(report.reason)})`}`)
        if (report.event === 'uncaught') log(`${worker.name} (pid ${child.pid}): uncaught: ${String(report.stack ?? report.message)}`)
        return
      } catch {}
    }
    worker.output.push(line)
    if (worker.output.length > 200) worker.output.shift()
  }
  lines(child.stdout, (line) => onLine(line, false))
  lines(child.stderr, (line) => onLine(line, true))
  void worker.exit.then(async ({ code, signal }) => {
    if (!worker.stoppedBySoak) log(`${worker.name} (pid ${child.pid}) exited by itself: code ${code} signal ${signal}\n${worker.output.slice(-20).join('\n')}`)
    if (proxies !== null) await Promise.all([proxies.pool.close(), proxies.session.close()])
  })
  return worker
}

/** Calls `onLine` with each non-blank line of `stream` (node:readline). */
function lines (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => { if (line.trim() !== '') onLine(line) })
}

export const alive = (worker: SoakWorker): boolean => worker.child.exitCode === null && worker.child.signalCode === null

/** Alive, not killed or frozen by the soak, and its last leader report says it leads. */
export function leads (worker: SoakWorker): boolean {
  const last = worker.reports.filter((report) => report.event === 'leader' || report.event === 'lost').at(-1)
  // A killed process looks alive until its exit event arrives: stoppedBySoak marks it at once.
  return alive(worker) && !worker.stoppedBySoak && !worker.frozen && last?.event === 'leader'
}
