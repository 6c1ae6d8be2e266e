/**
 * Issue #3, item 5: handler faults in a real worker process. A handler that throws a non-Error,
 * rejects, never settles (timeout: `timeout` status, its AbortSignal fires), blocks the event loop
 * for seconds, or produces a 1 MB error message (stored truncated, saying so). None of them
 * crashes the process, and none delays another job's firing beyond the blocked time. Once per
 * server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { alive, pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, executions, gaps, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const BLOCK_MS = 3000
const every = (seconds: number): Record<string, unknown> => ({ type: 'interval', seconds, startDate: START })
const JOBS = [
  { id: 'heartbeat', trigger: every(1), coalesce: false, misfireGraceTime: null, maxInstances: 10 },
  { id: 'throws-string', trigger: every(2), behaviour: 'throw-string' },
  { id: 'throws-object', trigger: every(2), behaviour: 'throw-object' },
  { id: 'rejects', trigger: every(2), behaviour: 'reject' },
  { id: 'never-settles', trigger: every(2), behaviour: 'hang', timeoutMs: 1000, maxInstances: 5 },
  { id: 'huge-error', trigger: every(2), behaviour: 'big-error' },
  { id: 'blocks', trigger: every(1), behaviour: { block: BLOCK_MS, times: 1 } }
]

for (const db of SERVER_DATABASES) t.test(`handler faults on ${db.name} are recorded and do not disturb other jobs`, async (t) => {
  const url = await db.fresh(t, 'handler_faults')
  const worker = startWorker(t, 'worker', url, { lock: 'auto', jobs: JOBS })
  await ready(worker)
  // The first occurrence whose handler ran and whose outcome is written. Rows that never ran are
  // skipped: an occurrence planned while the previous one's outcome was still being written (its row
  // still running: an instance) is recorded max_instances, which says nothing of the fault handling.
  const NEVER_RAN = new Set(['running', 'queued', 'max_instances', 'missed'])
  const firstOf = async (jobId: string, status?: string): Promise<Awaited<ReturnType<typeof executions>>[number]> =>
    pollUntil(`${jobId} finished`, async () => (await executions(url, jobId)).find((row) => !NEVER_RAN.has(row.status) && (status === undefined || row.status === status)), 30_000)

  const string = await firstOf('throws-string')
  t.equal(string.status, 'error')
  t.match(string.exception, /non-Error thrown: "a plain string, not an Error"/)
  const object = await firstOf('throws-object')
  t.equal(object.status, 'error')
  t.match(object.exception, /non-Error thrown: \{ code: 42, detail: .an object, not an Error. \}/, 'a thrown object is described with util.inspect')
  const rejected = await firstOf('rejects')
  t.equal(rejected.status, 'error')
  t.match(rejected.exception, /^RangeError: rejected on purpose/)
  const [trace] = await db.query<{ traceback: string | null }>(url, 'select traceback from scheduler_job_execution where id = ?', [rejected.id])
  t.match(trace?.traceback, /RangeError: rejected on purpose\n\s+at /, 'the stack is kept as the traceback')

  const timedOut = await firstOf('never-settles')
  t.equal(timedOut.status, 'timeout')
  t.match(timedOut.exception, /timeoutMs \(1000 ms\)/)
  const ranMs = (timedOut.finished_at as Date).getTime() - (timedOut.started_at as Date).getTime()
  t.ok(ranMs >= 900 && ranMs < 5000, `recorded timeout after ${ranMs} ms`)
  await pollUntil('the handler\'s AbortSignal fired', async () => reportsOf(worker, 'aborted').some((report) => report.executionId === timedOut.id), 10_000)
  t.pass('the never-settling handler saw its AbortSignal fire')

  const huge = await firstOf('huge-error')
  t.equal(huge.status, 'error')
  // char_length: characters on both servers (MariaDB's length() counts bytes).
  const [stored] = await db.query<{ len: number, tb: number, text: string }>(url,
    'select char_length(exception) as len, coalesce(char_length(traceback), 0) as tb, right(exception, 200) as text from scheduler_job_execution where id = ?', [huge.id])
  t.ok(Number(stored?.len ?? Infinity) < 100_000, `a 1 MB message is stored in ${stored?.len} characters`)
  t.ok(Number(stored?.tb ?? Infinity) < 100_000, `its traceback in ${stored?.tb} characters`)
  t.match(stored?.text, /truncated: 10485\d\d characters in all/, 'and the stored text says it was truncated, with the original length')

  const blocks = await firstOf('blocks')
  t.equal(blocks.status, 'success')
  const blockedAt = Number(reportsOf(worker, 'blocking')[0]?.at)

  // Heartbeats: every second has a row; lateness never exceeds the blocked time, and is small again after it.
  const blockEnd = blockedAt + BLOCK_MS
  await pollUntil('heartbeats 4 s past the block', async () => (await executions(url, 'heartbeat'))
    .some((row) => row.status === 'success' && row.run_time.getTime() > blockEnd + 4000), 30_000)
  const beats = (await executions(url, 'heartbeat')).filter((row) => row.status === 'success')
  t.same(gaps(beats, 1000), [], 'heartbeat: no occurrence dropped')
  const lateness = beats.map((row) => ({ runTime: row.run_time.getTime(), late: (row.started_at as Date).getTime() - row.run_time.getTime() }))
  const worst = Math.max(...lateness.map((beat) => beat.late))
  t.ok(worst <= BLOCK_MS + 1500, `heartbeat: at most ${worst} ms late (the block lasted ${BLOCK_MS} ms)`)
  const after = lateness.filter((beat) => beat.runTime > blockEnd + 1500)
  t.ok(after.length >= 2 && after.every((beat) => beat.late < 1000), `heartbeat: on time again after the block (${after.map((beat) => beat.late).join(', ')} ms late)`)
  t.same((await executions(url)).filter((row) => row.status === 'abandoned').map((row) => row.job_id), [], 'nothing was abandoned')

  t.ok(alive(worker), 'the worker survived every fault')
  t.same(reportsOf(worker, 'uncaught'), [], 'nothing was thrown into the host')
  t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, 'the worker shut down cleanly', { output: tail(worker) })
  // Error and timeout rows count as run: each needs its one effect, like a success.
  await assertLedger(t, url, JOBS.length)
})
