/**
 * Issue #15: a SQLite file is one process's database (the scheduler's wake-ups and its file lock
 * are in-process). A second process on the same file must fail fast with an error naming the
 * process that holds it (its pid), and leave the file intact: the first process keeps running,
 * and the file opens cleanly afterwards with every job and execution in it.
 * SQLite only: a server database (PostgreSQL, MariaDB) is meant for many processes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { ExecutionRowLike } from '../helpers/effect-ledger.js'
import { assertEffects, ledgerEnv } from '../helpers/effects.js'
import { alive, pollUntil, reportsOf, startProcess, stopProcess, tail } from '../helpers/processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/sqlite-worker.ts', import.meta.url))

t.test('a second process on a SQLite file fails fast naming the holder; the data stays intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-sqlite-2p-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, ...ledgerEnv(t), DB_FILE: join(dir, 'app.db') }
  const first = startProcess(t, 'first', [...process.execArgv, WORKER], env)
  await pollUntil('the first process runs tick twice', async () => {
    if (!alive(first)) throw new Error(`first exited:\n${tail(first)}`)
    return reportsOf(first, 'executed').length >= 2
  }, 60_000)

  const startedAt = Date.now()
  const second = startProcess(t, 'second', [...process.execArgv, WORKER], env)
  const exit = await stopProcess(second, null, 30_000).catch(async () => {
    second.child.kill('SIGKILL')
    await second.exited
    return { code: null, signal: null }
  })
  const tookMs = Date.now() - startedAt
  t.ok(typeof exit.code === 'number' && exit.code !== 0, `the second process failed by itself (exit ${exit.code}) after ${tookMs} ms`)
  t.ok(tookMs < 20_000, 'and failed fast')
  t.same(reportsOf(second, 'ready'), [], 'it never started a scheduler')
  const message = [...reportsOf(second, 'failed').map((report) => String(report.message)), ...second.output].join('\n')
  t.match(message, new RegExp(`\\b${first.child.pid}\\b`), `its error names the holder's pid ${first.child.pid}`)

  const executedBefore = reportsOf(first, 'executed').length
  await pollUntil('the first process keeps running tick', async () => reportsOf(first, 'executed').length >= executedBefore + 2, 30_000)
  t.same(await stopProcess(first, 'SIGTERM'), { code: 0, signal: null }, 'the first process shut down cleanly', { output: tail(first) })

  const third = startProcess(t, 'third', [...process.execArgv, WORKER], env)
  const firstRan = reportsOf(first, 'executed').length
  await pollUntil('the file opens again and tick runs', async () => {
    if (!alive(third)) throw new Error(`third exited:\n${tail(third)}`)
    return reportsOf(third, 'executed').length >= 1
  }, 60_000)
  const reopened = reportsOf(third, 'ready')[0] ?? {}
  t.ok(Number(reopened.successes) >= firstRan, `the reopened file holds the first process's ${firstRan} executions (${String(reopened.successes)} successes)`)
  t.same(await stopProcess(third, 'SIGTERM'), { code: 0, signal: null }, 'reopened and shut down cleanly', { output: tail(third) })

  const history = (reportsOf(third, 'history')[0]?.rows ?? []) as Array<{ job_id: string, run_time: string, status: string, attempt: number }>
  const rows: ExecutionRowLike[] = history.map((row) => ({ ...row, run_time: new Date(row.run_time) }))
  await assertEffects(t, { rows }, firstRan + 1)
})
