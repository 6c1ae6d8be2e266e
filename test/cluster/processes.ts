/**
 * Child processes for the multi-process tests: spawn, read their JSON-line reports, wait for a
 * report or for the exit, and kill whatever is still alive in teardown.
 */
import { createInterface } from 'node:readline'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'

export interface Worker {
  name: string
  child: ChildProcess
  /** Parsed JSON lines of stdout. */
  reports: Array<Record<string, unknown>>
  /** Everything else printed (stdout lines that are not JSON, and stderr), for failure messages. */
  output: string[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

interface Teardown { teardown(fn: () => unknown): void }

/** Spawns `node args…`; SIGKILLed in teardown if it is still running by then. */
export function startProcess (t: Teardown, name: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Worker {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const worker: Worker = {
    name,
    child,
    reports: [],
    output: [],
    exited: once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  }
  lines(child.stdout, (line) => {
    try {
      const parsed = JSON.parse(line) as unknown
      if (parsed !== null && typeof parsed === 'object') {
        worker.reports.push(parsed as Record<string, unknown>)
        return
      }
    } catch {}
    worker.output.push(line)
  })
  lines(child.stderr, (line) => worker.output.push(`stderr: ${line}`))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await worker.exited
    }
  })
  return worker
}

/** Resolves with the first report matching `predicate`; rejects when the process exits first or the deadline passes. */
export async function waitForReport (worker: Worker, what: string, predicate: (report: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = worker.reports.find(predicate)
    if (found !== undefined) return found
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
      throw new Error(`${worker.name} exited (${worker.child.exitCode ?? worker.child.signalCode}) before ${what}:\n${tail(worker)}`)
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${worker.name}: ${what}\n${tail(worker)}`)
    await sleep(50)
  }
}

/** Sends `signal` (unless null: just wait) and waits for the exit; rejects after the deadline. */
export async function stopProcess (worker: Worker, signal: NodeJS.Signals | null = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
  if (signal !== null && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${worker.name} did not exit within ${timeoutMs} ms${signal === null ? '' : ` of ${signal}`}:\n${tail(worker)}`)), timeoutMs)
  })
  try {
    return await Promise.race([worker.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `check` every 50 ms until it returns a value other than undefined/null/false; throws at the deadline. */
export async function pollUntil<T> (what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== null && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

export function tail (worker: Worker, count = 30): string {
  return worker.output.slice(-count).join('\n')
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Calls `onLine` with each non-blank line of `stream` (node:readline). */
function lines (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => { if (line.trim() !== '') onLine(line) })
}
