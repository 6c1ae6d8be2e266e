/**
 * The example app as a user runs it: a real process (`node --experimental-strip-types
 * example-app/main.ts`) that imports the package by name, so `dist/` is built first. Checks the
 * jobs run and are readable through `GET /executions`, the query validation, and a clean exit on
 * SIGTERM, on PostgreSQL, on PGlite, on SQLite, and with WORKERS=3 on PostgreSQL and on MariaDB (the
 * primary plans, the executions land on all three workers, each row naming its worker in `owner`,
 * and the heartbeat handler's own log lines show each occurrence ran once); the admin routes under `/scheduler`
 * answer only with `SCHEDULER_ADMIN_TOKEN` set, and only to its bearer token, and a client that
 * sent too many wrong tokens is refused (429) until its window ends.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildPackage } from '../helpers/build.js'
import { freshDatabase, query } from '../helpers/database.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { pollUntil, startProcess, stopProcess, tail, waitForReport, type Worker } from '../cluster/processes.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE_ARGS = ['--experimental-strip-types', '--no-warnings', 'example-app/main.ts']

interface Execution {
  jobId: string
  runTime: string
  status: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  exception: string | null
  traceback: string | null
  owner: string | null
}

// `npm start` builds first; do the same so the test works on a fresh clone.
t.before(buildPackage)
// The build and five real app processes: more than the default file timeout on a busy machine
// (132 s measured under load). Every wait below keeps its own deadline.
t.setTimeout(300_000)

/** The environment of the example: the test's own, without settings that would leak into it. */
function exampleEnv (settings: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const key of ['NODE_OPTIONS', 'DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'WORKERS', 'LOG_LEVEL', 'EXAMPLE_STARTED_AT', 'SCHEDULER_ADMIN_TOKEN', 'METRICS']) delete env[key]
  return { ...env, HOST: '127.0.0.1', PORT: '0', ...settings }
}

function startExample (t: Parameters<typeof startProcess>[0], name: string, settings: Record<string, string>): Worker {
  return startProcess(t, name, NODE_ARGS, exampleEnv(settings), ROOT)
}

/** The base URL from Fastify's "Server listening at http://127.0.0.1:PORT" log line (PORT=0 picks a free port). */
async function listeningAt (app: Worker): Promise<string> {
  const line = await waitForReport(app, 'the server listening', (report) => String(report.msg).startsWith('Server listening at http://127.0.0.1:'))
  return String(line.msg).slice('Server listening at '.length)
}

async function executions (base: string, limit = 1000): Promise<Execution[]> {
  const response = await fetch(`${base}/executions?limit=${limit}`)
  if (response.status !== 200) throw new Error(`GET /executions: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { executions: Execution[] }).executions
}

const ADMIN_TOKEN = 'example-admin-token-0123456789'

t.test('on PostgreSQL: jobs run, GET /executions lists them, bad limits are 400, admin routes need the token, SIGTERM exits 0', async (t) => {
  const url = await freshDatabase(t, 'example_app')
  const app = startExample(t, 'example app', { DATABASE_URL: url, SCHEDULER_ADMIN_TOKEN: ADMIN_TOKEN, METRICS: '1' })
  const base = await listeningAt(app)

  const seen = await pollUntil('a heartbeat success and a flaky error with a traceback', async () => {
    const list = await executions(base)
    const heartbeat = list.find((row) => row.jobId === 'heartbeat' && row.status === 'success')
    const failure = list.find((row) => row.jobId === 'flaky' && row.status === 'error')
    return heartbeat !== undefined && failure !== undefined && { heartbeat, failure }
  }, 30_000).catch((error: Error) => { throw new Error(`${error.message}\n${tail(app)}`) })

  t.match(seen.heartbeat, { runTime: String, startedAt: String, finishedAt: String, durationMs: Number, exception: null, traceback: null, owner: String })
  t.match(seen.failure.exception, /flaky run \d+ failed on purpose/)
  t.match(seen.failure.traceback, /Error: flaky run \d+ failed on purpose[\s\S]*\n\s+at /, 'the traceback is the stack of the error')

  const two = await executions(base, 2)
  t.equal(two.length, 2, 'limit=2 returns two rows')
  t.ok(Date.parse(two[0]?.runTime ?? '') >= Date.parse(two[1]?.runTime ?? ''), 'newest first')

  for (const limit of ['0', '1001', '-1', 'abc', '1.5']) {
    const response = await fetch(`${base}/executions?limit=${limit}`)
    t.equal(response.status, 400, `limit=${limit} is refused`)
    t.match(await response.json(), { code: 'FST_ERR_VALIDATION' })
  }

  for (const [what, headers] of [['no token', {}], ['a wrong token', { authorization: 'Bearer wrong-token-0123456789' }], ['another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }]] as const) {
    const response = await fetch(`${base}/scheduler/jobs`, { headers })
    t.equal(response.status, 401, `GET /scheduler/jobs with ${what}: 401`)
    t.match(await response.json(), { code: 'UNAUTHORIZED' })
  }
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const listed = await fetch(`${base}/scheduler/jobs`, { headers: auth })
  t.equal(listed.status, 200, 'with the token: 200')
  t.same(((await listed.json()) as { items: Array<{ id: string }> }).items.map((job) => job.id), ['flaky', 'heartbeat', 'minute-report', 'welcome'])
  const status = await fetch(`${base}/scheduler/status`, { headers: auth })
  t.match(await status.json(), { isLeader: true, lock: 'advisory', tasks: ['flaky', 'heartbeat', 'minute-report', 'welcome'] })
  const run = await fetch(`${base}/scheduler/jobs/heartbeat/run?wait=20000`, { method: 'POST', headers: auth })
  // success, or max_instances if it met a scheduled heartbeat still running: either way the leader took it.
  t.match([run.status, await run.json()], [200, { jobId: 'heartbeat', status: /^(success|max_instances)$/ }], 'run now through the admin API')

  // METRICS=1: the scheduler's counters on /metrics, between two counts of the rows this single process wrote.
  const heartbeats = async (): Promise<number> => (await query<{ n: number }>(url, "select count(*)::integer as n from scheduler_job_execution where job_id = 'heartbeat' and status = 'success'"))[0]?.n ?? 0
  const before = await heartbeats()
  const metrics = await fetch(`${base}/metrics`)
  const text = await metrics.text()
  const after = await heartbeats()
  t.equal(metrics.status, 200)
  t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const scraped = Number(/^scheduler_executions_total\{job="heartbeat",task="heartbeat",status="success"\} (\d+)$/m.exec(text)?.[1])
  t.ok(scraped >= before && scraped <= after, `heartbeat successes on /metrics (${scraped}) match the table (${before}..${after})`)
  t.match(text, /^scheduler_is_leader 1$/m, 'the only worker leads')
  t.match(text, /^process_cpu_user_seconds_total /m, "Node's default metrics beside the scheduler's")

  // Failed attempts are limited: FAILED_ATTEMPTS_MAX (10, example-app/routes/admin.ts) wrong tokens
  // per client. Two were sent above (the wrong token, the Basic scheme; no token is not counted),
  // so 8 more are answered 401, and from then on every admin request is 429, the right token too.
  const FAILED_ATTEMPTS_MAX = 10
  const answers: number[] = []
  for (let i = 0; i < FAILED_ATTEMPTS_MAX; i++) answers.push((await fetch(`${base}/scheduler/jobs`, { headers: { authorization: `Bearer wrong-${i}-0123456789` } })).status)
  t.same(answers, [...Array<number>(FAILED_ATTEMPTS_MAX - 2).fill(401), 429, 429], '8 more wrong tokens, then 429')
  const locked = await fetch(`${base}/scheduler/jobs`, { headers: auth })
  t.equal(locked.status, 429, 'the right token is refused too once the attempts are used up')
  t.ok(Number(locked.headers.get('retry-after')) > 0 && Number(locked.headers.get('retry-after')) <= 15 * 60, `Retry-After within the 15-minute window: ${locked.headers.get('retry-after')}`)
  t.match(await locked.json(), { code: 'TOO_MANY_FAILED_ATTEMPTS' })
  t.equal((await fetch(`${base}/executions?limit=1`)).status, 200, 'the rest of the app is not limited')

  const jobs = await query<{ id: string, trigger: { type: string } }>(url, 'select id, trigger from scheduler_job order by id')
  t.same(jobs.map((job) => [job.id, job.trigger.type]), [['flaky', 'interval'], ['heartbeat', 'interval'], ['minute-report', 'cron'], ['welcome', 'date']],
    'the jobs of all three registration styles are stored')
  t.same(await query(url, "select to_regclass('minute_report') is not null as exists"), [{ exists: true }], 'the example created its own table')

  t.same(await stopProcess(app, 'SIGTERM'), { code: 0, signal: null }, 'SIGTERM: graceful shutdown, exit code 0', { output: tail(app) })
  t.ok(app.reports.some((report) => report.msg === 'bye'), 'it said goodbye after closing the app and the ORM')
  t.same(await query(url, "select id from scheduler_job_execution where status = 'running'"), [], 'no execution left running')
})

t.test('without DATABASE_URL: runs on PGlite in DATA_DIR', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fms-example-'))
  t.teardown(async () => rm(dataDir, { recursive: true, force: true }))
  const app = startExample(t, 'example app on PGlite', { DATA_DIR: dataDir })
  const base = await listeningAt(app)
  await waitForReport(app, 'the file leader lock', (report) => report.lock === 'file' && String(report.msg).startsWith('leader lock acquired'))
  const heartbeat = await pollUntil('a heartbeat success', async () => (await executions(base)).find((row) => row.jobId === 'heartbeat' && row.status === 'success'), 30_000)
    .catch((error: Error) => { throw new Error(`${error.message}\n${tail(app)}`) })
  t.equal(heartbeat.status, 'success')
  t.equal((await fetch(`${base}/scheduler/jobs`)).status, 404, 'without SCHEDULER_ADMIN_TOKEN the admin routes are not mounted')
  t.equal((await fetch(`${base}/metrics`)).status, 404, 'without METRICS=1 there is no /metrics')
  t.equal((await fetch(`${base}/scheduler/jobs`, { headers: { authorization: 'Bearer anything-at-all-here' } })).status, 404)
  t.same(await stopProcess(app, 'SIGTERM'), { code: 0, signal: null }, 'SIGTERM: exit code 0', { output: tail(app) })
})

t.test('DATABASE_URL=sqlite:<file>: runs on SQLite (libsql) with a file lock; WORKERS>1 is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fms-example-sqlite-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const dbFile = join(dir, 'example.db')
  const app = startExample(t, 'example app on SQLite', { DATABASE_URL: `sqlite:${dbFile}` })
  const base = await listeningAt(app)
  await waitForReport(app, 'the file leader lock', (report) => report.lock === 'file' && String(report.msg).startsWith('leader lock acquired'))
  const seen = await pollUntil('a heartbeat success and a flaky error', async () => {
    const list = await executions(base)
    const heartbeat = list.find((row) => row.jobId === 'heartbeat' && row.status === 'success')
    const failure = list.find((row) => row.jobId === 'flaky' && row.status === 'error')
    return heartbeat !== undefined && failure !== undefined && { heartbeat, failure }
  }, 30_000).catch((error: Error) => { throw new Error(`${error.message}\n${tail(app)}`) })
  t.match(seen.heartbeat, { runTime: String, startedAt: String, finishedAt: String, durationMs: Number, exception: null, owner: String })
  t.match(seen.failure.exception, /flaky run \d+ failed on purpose/)
  const second = startExample(t, 'a second app on the same file', { DATABASE_URL: `sqlite:${dbFile}`, PORT: '0' })
  t.same(await stopProcess(second, null), { code: 1, signal: null }, 'a second process on the file exits 1 by itself')
  t.match(tail(second), new RegExp(`\\b${app.child.pid}\\b`), "naming the first process's pid")
  t.same(await stopProcess(app, 'SIGTERM'), { code: 0, signal: null }, 'SIGTERM: exit code 0', { output: tail(app) })

  const refused = startExample(t, 'example app', { DATABASE_URL: `sqlite:${dbFile}`, WORKERS: '2' })
  t.same(await stopProcess(refused, null), { code: 1, signal: null }, 'WORKERS=2 on SQLite exits 1 by itself')
  t.match(tail(refused), /WORKERS=2 needs PostgreSQL/)
})

const WORKERS = 3

for (const db of SERVER_DATABASES) {
  t.test(`WORKERS=${WORKERS} on ${db.name}: the workers share the port, the primary plans, every worker runs jobs, each occurrence once, SIGTERM to the primary stops all`, async (t) => {
    const url = await db.fresh(t, 'example_workers')
    const app = startExample(t, `example app on ${db.name}`, { DATABASE_URL: url, WORKERS: String(WORKERS) })
    const base = await listeningAt(app)
    await pollUntil(`all ${WORKERS} workers listening`, async () => app.reports.filter((report) => String(report.msg).startsWith('Server listening')).length === WORKERS)
    // Every scheduler logs its node id at start; the pid tells the primary's from the workers'.
    const primaryPid = app.child.pid
    const started = await pollUntil(`${WORKERS + 1} schedulers started (the primary and ${WORKERS} workers)`, async () => {
      const reports = app.reports.filter((report) => report.msg === 'scheduler started')
      return reports.length === WORKERS + 1 && reports
    }).catch((error: Error) => { throw new Error(`${error.message}\n${tail(app)}`) })
    const primaryNode = String(started.find((report) => report.pid === primaryPid)?.nodeId)
    const workerNodes = new Set(started.filter((report) => report.pid !== primaryPid).map((report) => String(report.nodeId)))
    t.equal(workerNodes.size, WORKERS, `${WORKERS} worker node ids`)
    await waitForReport(app, 'the primary leading', (report) => report.pid === primaryPid && String(report.msg).startsWith('leader lock acquired'))

    // The executions spread: the primary only plans (queued runs), each worker starts some of them.
    const owners = await pollUntil('successful runs owned by every worker', async () => {
      const seen = new Set((await executions(base)).filter((row) => row.status === 'success').map((row) => row.owner))
      return [...workerNodes].every((node) => seen.has(node)) && seen
    }, 60_000).catch((error: Error) => { throw new Error(`${error.message}\n${tail(app)}`) })
    t.same([...owners].filter((owner) => !workerNodes.has(String(owner))), [], 'every run was started by a worker')
    t.notOk(owners.has(primaryNode), 'the planning primary runs no handler')
    const listed = await executions(base)
    t.ok(listed.every((row) => !Number.isNaN(Date.parse(row.runTime)) && row.runTime.endsWith('Z')), 'GET /executions shows ISO UTC run times')

    t.same(await stopProcess(app, 'SIGTERM'), { code: 0, signal: null }, 'the primary exits 0 after its workers', { output: tail(app) })
    t.equal(app.reports.filter((report) => report.msg === 'bye').length, WORKERS, `all ${WORKERS} workers shut down gracefully`)
    t.same(await db.query(url, 'select job_id, run_time from scheduler_job_execution group by job_id, run_time having count(*) > 1'), [], 'no occurrence has two rows')
    t.same(await db.query(url, "select id from scheduler_job_execution where status = 'running'"), [], 'no execution left running')

    // The handlers' own output, outside the execution table: the heartbeat handler logs its run
    // time, from the worker that runs it. One line per occurrence, from a worker, for every success.
    const beats = app.reports.filter((report) => report.msg === 'heartbeat')
    const perRunTime = new Map<string, number[]>()
    for (const beat of beats) perRunTime.set(String(beat.runTime), [...(perRunTime.get(String(beat.runTime)) ?? []), Number(beat.pid)])
    t.same([...perRunTime].filter(([, pids]) => pids.length > 1), [], `no heartbeat occurrence ran twice (${beats.length} handler calls)`)
    t.notOk(beats.some((beat) => beat.pid === primaryPid), 'no heartbeat handler ran in the primary')
    const successes = await db.query<{ run_time: Date }>(url, "select run_time from scheduler_job_execution where job_id = 'heartbeat' and status = 'success'")
    t.ok(successes.length > 0, `${successes.length} heartbeat successes`)
    t.same(successes.map((row) => row.run_time.toISOString()).filter((runTime) => !perRunTime.has(runTime)), [], 'every heartbeat success has its handler call')
    const perPid = new Map<number, number>()
    for (const beat of beats) perPid.set(Number(beat.pid), (perPid.get(Number(beat.pid)) ?? 0) + 1)
    t.comment(`heartbeat handler calls per worker pid: ${[...perPid].map(([pid, n]) => `${pid}=${n}`).join(', ')}`)
  })
}

t.test('WORKERS>1 without DATABASE_URL is refused with a clear error', async (t) => {
  const app = startExample(t, 'example app', { WORKERS: '3' })
  t.same(await stopProcess(app, null), { code: 1, signal: null }, 'exits 1 by itself')
  t.match(tail(app), /WORKERS=3 needs DATABASE_URL/)
})

t.test('a short SCHEDULER_ADMIN_TOKEN is refused with a clear error', async (t) => {
  const app = startExample(t, 'example app', { SCHEDULER_ADMIN_TOKEN: 'secret' })
  t.same(await stopProcess(app, null), { code: 1, signal: null }, 'exits 1 by itself')
  t.match(tail(app), /SCHEDULER_ADMIN_TOKEN must be at least 16 characters/)
})
