/**
 * Worker processes of the multi-process rows: `forkWorker` forks bench/node/worker.mjs (a
 * Scheduler of its own on the shared database, not started) and resolves once it has loaded;
 * `worker.start()` starts its scheduler; `stopWorker`
 * shuts it down and resolves with what it recorded. A worker that exits early rejects (its stderr
 * passes through); every worker is killed after `timeoutMs` so the bench always stops by itself.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url))

/** { child, request(type, answer), start() } once the worker has loaded (its scheduler not started). */
export function forkWorker (url, config, timeoutMs = 1_800_000) {
  const child = fork(WORKER, [url, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  timer.unref()
  const waiting = new Map() // message type → resolve
  let exited = null
  const failures = new Set()
  child.on('message', (message) => {
    const resolve = waiting.get(message?.type)
    waiting.delete(message?.type)
    resolve?.(message)
  })
  child.on('exit', (code, signal) => {
    clearTimeout(timer)
    exited = new Error(`bench worker exited (${signal ?? `exit ${code}`}) before answering`)
    for (const reject of failures) reject(exited)
  })
  /** Sends `{ type }` (unless null) and resolves with the worker's next message of `answer`. */
  const request = (type, answer = type) => new Promise((resolve, reject) => {
    if (exited !== null) return reject(exited)
    failures.add(reject)
    waiting.set(answer, (message) => { failures.delete(reject); resolve(message) })
    if (type !== null) child.send({ type })
  })
  const start = () => request('start', 'ready')
  return request(null, 'loaded').then(() => ({ child, request, start }))
}

/** Shuts the worker's scheduler down; resolves with its `result` message once it has exited. */
export async function stopWorker (worker) {
  const result = await worker.request('stop', 'result')
  await new Promise((resolve) => worker.child.exitCode !== null || worker.child.signalCode !== null ? resolve() : worker.child.once('exit', resolve))
  return result
}

/** Kills what is still running (after a failure). */
export function killWorkers (workers) {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
}
