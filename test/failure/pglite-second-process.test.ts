/**
 * Issue #3, item 8: an embedded (PGlite) data directory opened by a second process. PGlite is a
 * single-process database; a second process on the same directory must fail fast with an error
 * naming the process that holds it (its pid), and never corrupt the data: the first process keeps
 * running, and the directory opens cleanly afterwards with every job and execution in it.
 * PGlite only: a server database (PostgreSQL, MariaDB) is meant for many processes.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { ExecutionRowLike } from '../helpers/effect-ledger.js'
import { assertEffects, ledgerEnv } from '../helpers/effects.js'
import { alive, pollUntil, reportsOf, startProcess, stopProcess, tail } from '../helpers/processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/pglite-worker.ts', import.meta.url))

t.test('a second process on a PGlite data directory fails fast naming the holder; the data stays intact', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'fms-pglite-2p-')), 'data')
  const env = { ...process.env, ...ledgerEnv(t), DATA_DIR: dataDir }
  const first = startProcess(t, 'first', [...process.execArgv, WORKER], env)
  await pollUntil('the first process runs tick twice', async () => {
    if (!alive(first)) throw new Error(`first exited:\n${tail(first)}`)
    return reportsOf(first, 'executed').length >= 2
  }, 60_000)

  const startedAt = Date.now()
  const second = startProcess(t, 'second', [...process.execArgv, WORKER], env)
  const exit = await stopProcess(second, null, 30_000).catch(async () => {
    // Still running after 30 s: it opened the directory. Stop it before going on.
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

  // The directory opens cleanly and holds everything the first process recorded.
  const third = startProcess(t, 'third', [...process.execArgv, WORKER], env)
  const firstRan = reportsOf(first, 'executed').length
  await pollUntil('the directory opens again and tick runs', async () => {
    if (!alive(third)) throw new Error(`third exited:\n${tail(third)}`)
    return reportsOf(third, 'executed').length >= 1
  }, 60_000)
  const reopened = reportsOf(third, 'ready')[0] ?? {}
  t.ok(Number(reopened.successes) >= firstRan, `the reopened directory holds the first process's ${firstRan} executions (${String(reopened.successes)} successes)`)
  t.same(await stopProcess(third, 'SIGTERM'), { code: 0, signal: null }, 'reopened and shut down cleanly', { output: tail(third) })

  // Every execution the directory holds at the end (the third process read them at shutdown), judged by the ledger of all three processes.
  const history = (reportsOf(third, 'history')[0]?.rows ?? []) as Array<{ job_id: string, run_time: string, status: string }>
  const rows: ExecutionRowLike[] = history.map((row) => ({ ...row, run_time: new Date(row.run_time) }))
  await assertEffects(t, { rows }, firstRan + 1)
})
