/**
 * The command line on every database it takes (PostgreSQL, MariaDB, a SQLite file): the built bin
 * in a child process next to a scheduler that plays the host app, one test body per database.
 * Effects are checked in the tables (`?` queries through the helper) and in a ledger the app's
 * handler keeps; exit codes and messages when the tables are missing.
 */
import t, { type Test } from 'tap'
import { buildPackage } from '../helpers/build.js'
import { CLI_DATABASES, cli, type CliDatabase } from '../helpers/cli.js'
import { toDate } from '../../src/sql/sql-client.js'
import { waitUntil } from '../helpers/wait.js'

t.before(buildPackage)
// Each command is a process start plus a database connection: seconds apiece on a busy machine,
// and the bodies run on three databases.
t.setTimeout(45 * 60_000)

/** A boolean column as each database returns it (PostgreSQL true, MariaDB and SQLite 1). */
const bool = (value: unknown): boolean => value === true || Number(value) === 1
const DAY_MS = 86_400_000

for (const db of CLI_DATABASES) {
  t.test(`schema sql, install and check on ${db.name}`, async (t) => schemaCommands(t, db))
  t.test(`jobs, executions and status against a running app on ${db.name}`, async (t) => jobsAndExecutions(t, db))
}

async function schemaCommands (t: Test, db: CliDatabase): Promise<void> {
  const url = await db.fresh(t, 'cli_schema')
  const sql = await cli(['schema', 'sql', '--database-url', url])
  t.equal(sql.code, 0, `schema sql needs no connection: ${sql.stderr}`)
  t.match(sql.stdout, /CREATE TABLE IF NOT EXISTS scheduler_job \(/, "the URL's dialect's DDL")
  t.match(sql.stdout, /CREATE TABLE IF NOT EXISTS scheduler_job_execution \(/)

  const missing = await cli(['jobs', 'list', '--database-url', url])
  t.equal(missing.code, 1, 'commands refuse a database without the tables')
  t.match(missing.stderr, /the scheduler's tables are not in \S+: check the URL.*, or create them with 'fastify-mikro-scheduler schema install'/)
  await t.rejects(db.query(url, 'SELECT count(*) AS n FROM scheduler_job'), 'and create nothing')
  const unchecked = await cli(['schema', 'check', '--database-url', url])
  t.equal(unchecked.code, 1, 'schema check fails on a database without the tables')
  t.match(unchecked.stderr, /the scheduler's tables in \S+ are not up to date: .*migration 'Migration\d+_scheduler_initial'.*\(or run 'fastify-mikro-scheduler schema install'\)/)

  const install = await cli(['schema', 'install'], { DATABASE_URL: url })
  t.equal(install.code, 0, install.stderr)
  t.match(install.stdout, /^the scheduler's tables are installed in /)
  for (const table of ['scheduler_job', 'scheduler_job_execution', 'scheduler_leader', 'scheduler_node', 'scheduler_audit']) {
    const [row] = await db.query<{ n: unknown }>(url, `SELECT count(*) AS n FROM ${table}`)
    t.equal(Number(row?.n), 0, `${table} is there, empty`)
  }
  t.equal((await cli(['schema', 'install', '--json'], { DATABASE_URL: url })).code, 0, 'installing again is harmless')
  const checked = await cli(['schema', 'check', '--json', '--database-url', url])
  t.equal(checked.code, 0, checked.stderr)
  t.same(JSON.parse(checked.stdout), { upToDate: true })
}

async function jobsAndExecutions (t: Test, db: CliDatabase): Promise<void> {
  const url = await db.fresh(t, 'cli_jobs')
  const scheduler = await db.app(t, url)
  // The app's ledger: one entry per handler call, with the execution id it ran as.
  const ledger: Array<{ jobId: string, executionId: number }> = []
  scheduler.registerTask('report', (ctx) => { ledger.push({ jobId: ctx.job.id, executionId: ctx.executionId }); return { rows: ledger.length } })
  scheduler.registerTask('failing', (ctx) => {
    ledger.push({ jobId: ctx.job.id, executionId: ctx.executionId })
    throw new Error('the report server is down')
  })
  const leader = scheduler.once('leader:acquired')
  await scheduler.start()
  await leader
  await scheduler.addJob({ id: 'daily-report', task: 'report', trigger: { type: 'cron', expression: '0 6 * * *' } })
  await scheduler.addJob({ id: 'hourly', task: 'report', trigger: { type: 'interval', hours: 1 } })
  await scheduler.addJob({ id: 'broken', task: 'failing', trigger: { type: 'interval', hours: 1 }, paused: true })
  const on = ['--database-url', url]

  const list = await cli(['jobs', 'list', '--json', ...on])
  t.equal(list.code, 0, list.stderr)
  const listed = JSON.parse(list.stdout) as { total: number, jobs: Array<{ id: string, task: string, paused: boolean }> }
  const rows = (await db.query(url, 'SELECT id, task, paused FROM scheduler_job ORDER BY id')).map((row) => ({ ...row, paused: bool(row.paused) }))
  t.same(listed.jobs.map(({ id, task, paused }) => ({ id, task, paused })), rows, '--json lists the rows of scheduler_job')
  t.equal(listed.total, 3)
  const people = await cli(['jobs', 'list', ...on])
  t.match(people.stdout, /^ID\s+TASK\s+STATE\s+NEXT RUN\s+TRIGGER\n/, 'a table for people')
  t.match(people.stdout, /\nbroken\s+failing\s+paused\s+/)
  t.match(people.stdout, /\ndaily-report\s+report\s+active\s+\d{4}-\d\d-\d\dT06:00:00\.000Z\s+At 06:00/)

  const show = await cli(['jobs', 'show', 'hourly', '--json', ...on])
  t.equal(show.code, 0)
  t.equal(JSON.parse(show.stdout).job.task, 'report')

  // pause and resume change the row (resume recomputes the next run time from now).
  t.equal((await cli(['jobs', 'pause', 'daily-report', ...on])).code, 0)
  t.same((await db.query(url, "SELECT paused FROM scheduler_job WHERE id = 'daily-report'")).map((row) => bool(row.paused)), [true])
  t.equal((await scheduler.getJob('daily-report'))?.paused, true, 'the app reads the change')
  const resume = await cli(['jobs', 'resume', 'daily-report', '--json', ...on])
  t.equal(resume.code, 0, resume.stderr)
  const [daily] = await db.query<{ paused: unknown, next_run_time: unknown }>(url, "SELECT paused, next_run_time FROM scheduler_job WHERE id = 'daily-report'")
  t.equal(bool(daily?.paused), false)
  const nextRun = toDate(daily?.next_run_time).toISOString()
  t.match(nextRun, /T06:00:00\.000Z$/, 'the next 06:00 UTC')
  t.equal(JSON.parse(resume.stdout).job.nextRunTime, nextRun)
  t.same(await db.query(url, "SELECT action, actor FROM scheduler_audit WHERE job_id = 'daily-report' AND action IN ('paused', 'resumed') ORDER BY id"),
    [{ action: 'paused', actor: 'cli' }, { action: 'resumed', actor: 'cli' }], 'the audit trail names the command line')

  // run: queued for the app's leader, whose handler runs it.
  const run = await cli(['jobs', 'run', 'daily-report', '--wait', '--json', ...on])
  t.equal(run.code, 0, run.stderr)
  const ran = JSON.parse(run.stdout).execution as { id: number, status: string, jobId: string }
  t.equal(ran.status, 'success')
  t.same(ledger, [{ jobId: 'daily-report', executionId: ran.id }], "the app's handler ran the queued run, once")
  const queued = await cli(['jobs', 'run', 'daily-report', ...on])
  t.equal(queued.code, 0)
  // On SQLite a note follows (the app sees the run at its next poll; dialects.test.ts checks it).
  t.match(queued.stdout, /^queued a run of job 'daily-report': execution \d+; the leader starts it\n(note: .*\n)?$/)
  const queuedId = Number(/execution (\d+)/.exec(queued.stdout)?.[1])
  await waitUntil('the leader to run the queued run', () => ledger.some((call) => call.executionId === queuedId), 60_000)
  t.same(ledger.map((call) => call.jobId), ['daily-report', 'daily-report'], 'each run, once')
  const failed = await cli(['jobs', 'run', 'broken', '--wait', ...on])
  t.equal(failed.code, 1, '--wait exits 1 when the run did not succeed (a paused job runs when asked)')
  t.match(failed.stdout, /job 'broken' execution \d+: error in \d+ ms\nError: the report server is down\n/)

  // executions list / show
  await scheduler.waitForExecution(queuedId)
  const executions = JSON.parse((await cli(['executions', 'list', '--job', 'daily-report', '--json', ...on])).stdout) as { executions: Array<{ id: number }> }
  t.same(executions.executions.map((e) => e.id), [queuedId, ran.id], 'newest first')
  const table = await cli(['executions', 'list', ...on])
  t.match(table.stdout, /^ID\s+JOB\s+RUN TIME\s+STATUS\s+DURATION\s+OWNER\n/)
  t.equal(table.stdout.trim().split('\n').length, 4, 'three executions and the header')
  const errorRuns = JSON.parse((await cli(['executions', 'list', '--status', 'error', '--json', ...on])).stdout) as { executions: Array<{ jobId: string }> }
  t.same(errorRuns.executions.map((e) => e.jobId), ['broken'])
  const detail = await cli(['executions', 'show', String(ledger[2]?.executionId), ...on])
  t.match(detail.stdout, /status:\s+error\n/)
  t.match(detail.stdout, /traceback:\nError: the report server is down\n\s+at /)
  t.notMatch(detail.stdout, /result:/, 'an error has no result')
  const succeeded = await cli(['executions', 'show', String(queuedId), ...on])
  t.match(succeeded.stdout, /\nresult:\n\{\n {2}"rows": \d+\n\}\n/, 'a success shows what the handler returned')

  // status: the app's scheduler leads
  const status = JSON.parse((await cli(['status', '--json', ...on])).stdout) as { leader: { nodeId: string } | null, running: number, queued: number, nextWakeup: string, jobs: Record<string, number> }
  t.equal(status.leader?.nodeId, scheduler.nodeId, 'the leader is the running app')
  const nodes = (status as unknown as { nodes: Array<{ nodeId: string, pid: number, tasks: string[] }> }).nodes
  t.same(nodes.map((node) => [node.nodeId, node.pid]), [[scheduler.nodeId, process.pid]], 'the live nodes: the app, with its pid')
  t.same(nodes[0]?.tasks, scheduler.taskNames, 'and its tasks')
  t.equal(status.running, 0)
  t.equal(status.queued, 0)
  const [{ next }] = await db.query<{ next: unknown }>(url, 'SELECT min(next_run_time) AS next FROM scheduler_job WHERE NOT paused AND last_error IS NULL') as [{ next: unknown }]
  t.equal(status.nextWakeup, toDate(next).toISOString(), 'next wake-up is the earliest next run time')
  t.same(status.jobs, { active: 2, paused: 1, flagged: 0, finished: 0 })
  const statusText = (await cli(['status', ...on])).stdout
  t.match(statusText, new RegExp(`leader:\\s+${scheduler.nodeId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`))
  t.match(statusText, /live nodes \(heartbeat within 3 of their intervals\):\nNODE\s+HOST\s+PID\s+ROLES/, 'the nodes table')
  t.match(statusText, new RegExp(`\\s${process.pid}\\s+plan,execute\\s`), 'the app\'s row')
  t.notMatch(statusText, /not live/, 'no running execution of a dead process')
  // A running execution whose owner is no live node (a process that died): listed apart.
  const now = Date.now()
  await db.query(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, owner, lease_until)
    VALUES ('ghost-job', ?, 'running', ?, 'ghost-node', ?)`, [new Date(now), new Date(now), new Date(now + 3_600_000)])
  const ghost = JSON.parse((await cli(['status', '--json', ...on])).stdout) as { otherOwners: Array<{ nodeId: string, running: number }>, running: number }
  t.match(ghost.otherOwners, [{ nodeId: 'ghost-node', running: 1 }], 'the dead owner, apart from the live nodes')
  t.equal(ghost.running, 1)
  t.match((await cli(['status', ...on])).stdout, /live nodes[\s\S]*not live[\s\S]*ghost-node\s+1\s/, 'printed under its own heading')
  await db.query(url, "DELETE FROM scheduler_job_execution WHERE job_id = 'ghost-job'")

  // prune: only executions older than the given age
  await db.query(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES
    ('gone', ?, 'success'), ('gone', ?, 'error'), ('gone', ?, 'success')`, [new Date(now - 8 * DAY_MS), new Date(now - 9 * DAY_MS), new Date(now - 6 * DAY_MS)])
  const prune = await cli(['executions', 'prune', '--older-than', '7d', '--json', ...on])
  t.equal(prune.code, 0, prune.stderr)
  t.same(JSON.parse(prune.stdout), { deleted: 2, olderThanSeconds: 604_800 })
  t.same((await db.query(url, "SELECT status FROM scheduler_job_execution WHERE job_id = 'gone' ORDER BY run_time")).map((r) => r.status), ['success'], 'the 6-day-old one stays')

  // remove, then not found
  t.equal((await cli(['jobs', 'remove', 'daily-report', ...on])).code, 0)
  t.same(await db.query(url, "SELECT id FROM scheduler_job WHERE id = 'daily-report'"), [])
  t.ok((await db.query(url, "SELECT id FROM scheduler_job_execution WHERE job_id = 'daily-report'")).length > 0, 'its history stays')
  for (const args of [['jobs', 'remove', 'daily-report'], ['jobs', 'run', 'daily-report'], ['executions', 'show', '999999']]) {
    const missing = await cli([...args, ...on])
    t.equal(missing.code, 3, `${args.join(' ')}: exit 3`)
    t.match(missing.stderr, /not found/)
  }
  const missingJson = await cli(['jobs', 'show', 'daily-report', '--json', ...on])
  t.same(JSON.parse(missingJson.stderr), { error: "job 'daily-report' not found", exitCode: 3 }, 'errors in JSON with --json')
}
