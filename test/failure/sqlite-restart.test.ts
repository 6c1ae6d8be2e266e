/**
 * Issue #15: on SQLite, jobs and their history survive a process restart, a crash (SIGKILL) as well
 * as a clean one, and no occurrence runs twice across the restarts. The evidence is the effect
 * ledger the handler writes outside the database, judged against every execution row the file
 * holds at the end, plus the arithmetic of executions carried from one process to the next.
 * SQLite only (a one-process store); a killed leader on PostgreSQL and MariaDB: leader-kill.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { ExecutionRowLike } from '../helpers/effect-ledger.js'
import { assertEffects, effectsOf, ledgerEnv } from '../helpers/effects.js'
import { alive, pollUntil, reportsOf, startProcess, stopProcess, tail, type Worker } from '../helpers/processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/sqlite-worker.ts', import.meta.url))

t.test('jobs and history survive a crash and a clean restart; no occurrence runs twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-sqlite-restart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, ...ledgerEnv(t), DB_FILE: join(dir, 'app.db') }
  const runUntil = async (name: string, executions: number): Promise<Worker> => {
    const worker = startProcess(t, name, [...process.execArgv, WORKER], env)
    await pollUntil(`${name} runs tick ${executions} times`, async () => {
      if (!alive(worker)) throw new Error(`${name} exited:\n${tail(worker)}`)
      return reportsOf(worker, 'executed').length >= executions
    }, 60_000)
    return worker
  }

  // 1. A process that crashes: SIGKILL, no shutdown, its file lock left behind with a dead pid.
  const crashed = await runUntil('crashed', 3)
  crashed.child.kill('SIGKILL')
  await crashed.exited
  const crashedRan = reportsOf(crashed, 'executed').length

  // 2. The next process takes the file over (the lock's holder is dead) and finds the history.
  const second = await runUntil('second', 3)
  const atSecond = reportsOf(second, 'ready')[0] ?? {}
  t.ok(Number(atSecond.successes) >= crashedRan, `after the crash the file holds the ${crashedRan} executions reported (${String(atSecond.successes)} successes)`)
  t.same(await stopProcess(second, 'SIGTERM'), { code: 0, signal: null }, 'the second process shut down cleanly', { output: tail(second) })
  const secondRan = reportsOf(second, 'executed').length

  // 3. A clean restart: the job is still there and keeps running; the history holds both processes' runs.
  const third = await runUntil('third', 2)
  const atThird = reportsOf(third, 'ready')[0] ?? {}
  t.ok(Number(atThird.successes) >= crashedRan + secondRan, `after the clean restart the file holds ${crashedRan} + ${secondRan} executions (${String(atThird.successes)} successes)`)
  t.same(await stopProcess(third, 'SIGTERM'), { code: 0, signal: null }, 'the third process shut down cleanly', { output: tail(third) })
  const thirdRan = reportsOf(third, 'executed').length

  const history = (reportsOf(third, 'history')[0]?.rows ?? []) as Array<{ job_id: string, run_time: string, status: string, attempt: number }>
  const rows: ExecutionRowLike[] = history.map((row) => ({ ...row, run_time: new Date(row.run_time) }))
  const check = await assertEffects(t, { rows }, crashedRan + secondRan + thirdRan)
  // Every effect is one occurrence: as many distinct run times as effects, whichever process ran them.
  const effects = effectsOf(t)
  t.equal(new Set(effects.map((effect) => `${effect.jobId}@${effect.runTime}`)).size, check.effects, 'distinct occurrences = effects: none ran twice')
  t.ok(new Set(effects.map((effect) => effect.pid)).size === 3, 'all three processes ran the job')
})
