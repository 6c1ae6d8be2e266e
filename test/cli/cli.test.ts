/**
 * The `fastify-mikro-scheduler` command line as a user runs it: the built bin (`dist/cli/bin.js`,
 * the file package.json's "bin" names) in a child process against PostgreSQL, next to a running
 * scheduler that plays the host app. Effects are checked in the tables and in a ledger the app's
 * handler keeps; exit codes and messages for bad command lines.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { buildPackage, ROOT } from '../helpers/build.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { schedulerOnPostgres } from '../helpers/scheduler.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { waitUntil } from '../helpers/wait.js'

interface Run { code: number, stdout: string, stderr: string }

t.before(buildPackage)
// Each command is a process start plus a database connection: seconds apiece on a busy machine.
t.setTimeout(10 * 60_000)

/** Runs the bin; the environment has no DATABASE_URL unless `env` gives one. */
async function cli (args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { DATABASE_URL: _ignored, NODE_OPTIONS: _none, ...base } = process.env
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/cli/bin.js'), ...args], { env: { ...base, ...env }, cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('package.json names the built bin', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  t.same(pkg.bin, { 'fastify-mikro-scheduler': './dist/cli/bin.js' })
  t.match(await readFile(join(ROOT, 'dist/cli/bin.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the built bin starts with a node shebang')
})

t.test('schema sql and install', async (t) => {
  const url = await freshDatabase(t, 'cli_schema')
  const sql = await cli(['schema', 'sql'])
  t.equal(sql.code, 0, 'schema sql needs no database')
  t.match(sql.stdout, /CREATE TABLE IF NOT EXISTS scheduler_job \(/)
  t.match(sql.stdout, /CREATE TABLE IF NOT EXISTS scheduler_job_execution \(/)

  const missing = await cli(['jobs', 'list', '--database-url', url])
  t.equal(missing.code, 1, 'commands refuse a database without the tables')
  t.match(missing.stderr, /the scheduler's tables are not in postgres:\/\/.*: check the URL \(and --schema, if the app's plugin has a schema option\), or create them with 'fastify-mikro-scheduler schema install'/)
  t.same(await query(url, "SELECT to_regclass('scheduler_job') AS t"), [{ t: null }], 'and create nothing')

  const install = await cli(['schema', 'install'], { DATABASE_URL: url })
  t.equal(install.code, 0, install.stderr)
  t.same(await query(url, "SELECT to_regclass('scheduler_job')::text AS j, to_regclass('scheduler_job_execution')::text AS e"), [{ j: 'scheduler_job', e: 'scheduler_job_execution' }])
  t.equal((await cli(['schema', 'install', '--json'], { DATABASE_URL: url })).code, 0, 'installing again is harmless')
})

t.test('--schema: the tables of an app whose plugin has a schema option', async (t) => {
  const url = await freshDatabase(t, 'cli_custom_schema')
  const printed = await cli(['schema', 'sql', '--schema', 'hostapp'])
  t.equal(printed.code, 0, printed.stderr)
  t.match(printed.stdout, /^CREATE SCHEMA IF NOT EXISTS "hostapp";/, 'the DDL creates the schema first')
  t.match(printed.stdout, /CREATE TABLE IF NOT EXISTS "hostapp"\.scheduler_job \(/, 'and places every table in it')
  t.equal((await cli(['schema', 'sql', '--schema', ''])).code, 2, 'an empty schema name is a usage error')

  const install = await cli(['schema', 'install', '--schema', 'hostapp', '--database-url', url])
  t.equal(install.code, 0, install.stderr)
  t.match(install.stdout, /installed in schema "hostapp" of postgres:/)
  t.same(await query(url, "SELECT to_regclass('hostapp.scheduler_job')::text AS j, to_regclass('public.scheduler_job')::text AS p"), [{ j: 'hostapp.scheduler_job', p: null }], 'in hostapp, not in public')

  // The app: its store on schema hostapp (as the plugin builds it from { schema: 'hostapp' }).
  const orm = await openOrm(t, url)
  const app = new Scheduler({ store: new MikroOrmJobStore(orm, { schema: 'hostapp' }), orm })
  app.registerTask('work', () => {})
  await app.addJob({ id: 'in-hostapp', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
  const listed = await cli(['jobs', 'list', '--json', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(listed.code, 0, listed.stderr)
  t.same((JSON.parse(listed.stdout) as { jobs: Array<{ id: string }> }).jobs.map((job) => job.id), ['in-hostapp'], 'jobs list finds the job in hostapp')
  const paused = await cli(['jobs', 'pause', 'in-hostapp', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(paused.code, 0, paused.stderr)
  t.same(await query(url, 'SELECT paused FROM hostapp.scheduler_job'), [{ paused: true }], 'and pauses it there')
  const status = await cli(['status', '--json', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(status.code, 0, status.stderr)
  const without = await cli(['jobs', 'list'], { DATABASE_URL: url })
  t.equal(without.code, 1, 'without --schema the tables are not found')
  t.match(without.stderr, /--schema/, 'and the message points at --schema')
})

t.test('jobs and executions against a running app', async (t) => {
  const { scheduler, url } = await schedulerOnPostgres(t, 'cli_jobs')
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
  const db = ['--database-url', url]

  const list = await cli(['jobs', 'list', '--json', ...db])
  t.equal(list.code, 0, list.stderr)
  const listed = JSON.parse(list.stdout) as { total: number, jobs: Array<{ id: string, task: string, paused: boolean }> }
  const rows = await query(url, 'SELECT id, task, paused FROM scheduler_job ORDER BY id')
  t.same(listed.jobs.map(({ id, task, paused }) => ({ id, task, paused })), rows, '--json lists the rows of scheduler_job')
  t.equal(listed.total, 3)
  const people = await cli(['jobs', 'list', ...db])
  t.match(people.stdout, /^ID\s+TASK\s+STATE\s+NEXT RUN\s+TRIGGER\n/, 'a table for people')
  t.match(people.stdout, /\nbroken\s+failing\s+paused\s+/)
  t.match(people.stdout, /\ndaily-report\s+report\s+active\s+\d{4}-\d\d-\d\dT06:00:00\.000Z\s+At 06:00/)

  const show = await cli(['jobs', 'show', 'hourly', '--json', ...db])
  t.equal(show.code, 0)
  t.equal(JSON.parse(show.stdout).job.task, 'report')

  // pause and resume change the row (resume recomputes the next run time from now).
  t.equal((await cli(['jobs', 'pause', 'daily-report', ...db])).code, 0)
  t.same(await query(url, "SELECT paused FROM scheduler_job WHERE id = 'daily-report'"), [{ paused: true }])
  t.equal((await scheduler.getJob('daily-report'))?.paused, true, 'the app reads the change')
  const resume = await cli(['jobs', 'resume', 'daily-report', '--json', ...db])
  t.equal(resume.code, 0, resume.stderr)
  const [daily] = await query<{ paused: boolean, next_run_time: Date }>(url, "SELECT paused, next_run_time FROM scheduler_job WHERE id = 'daily-report'")
  t.equal(daily?.paused, false)
  t.match(daily?.next_run_time.toISOString(), /T06:00:00\.000Z$/, 'the next 06:00 UTC')
  t.equal(JSON.parse(resume.stdout).job.nextRunTime, daily?.next_run_time.toISOString())
  t.same(await query(url, "SELECT action, actor FROM scheduler_audit WHERE job_id = 'daily-report' AND action IN ('paused', 'resumed') ORDER BY id"),
    [{ action: 'paused', actor: 'cli' }, { action: 'resumed', actor: 'cli' }], 'the audit trail names the command line')

  // run: queued for the app's leader, whose handler runs it.
  const run = await cli(['jobs', 'run', 'daily-report', '--wait', '--json', ...db])
  t.equal(run.code, 0, run.stderr)
  const ran = JSON.parse(run.stdout).execution as { id: number, status: string, jobId: string }
  t.equal(ran.status, 'success')
  t.same(ledger, [{ jobId: 'daily-report', executionId: ran.id }], "the app's handler ran the queued run, once")
  const queued = await cli(['jobs', 'run', 'daily-report', ...db])
  t.equal(queued.code, 0)
  t.match(queued.stdout, /^queued a run of job 'daily-report': execution \d+; the leader starts it\n$/)
  const queuedId = Number(/execution (\d+)/.exec(queued.stdout)?.[1])
  await waitUntil('the leader to run the queued run', () => ledger.some((call) => call.executionId === queuedId), 60_000)
  t.same(ledger.map((call) => call.jobId), ['daily-report', 'daily-report'], 'each run, once')
  const failed = await cli(['jobs', 'run', 'broken', '--wait', ...db])
  t.equal(failed.code, 1, '--wait exits 1 when the run did not succeed (a paused job runs when asked)')
  t.match(failed.stdout, /job 'broken' execution \d+: error in \d+ ms\nError: the report server is down\n/)

  // executions list / show
  await scheduler.waitForExecution(queuedId)
  const executions = JSON.parse((await cli(['executions', 'list', '--job', 'daily-report', '--json', ...db])).stdout) as { executions: Array<{ id: number }> }
  t.same(executions.executions.map((e) => e.id), [queuedId, ran.id], 'newest first')
  const table = await cli(['executions', 'list', ...db])
  t.match(table.stdout, /^ID\s+JOB\s+RUN TIME\s+STATUS\s+DURATION\s+OWNER\n/)
  t.equal(table.stdout.trim().split('\n').length, 4, 'three executions and the header')
  const errorRuns = JSON.parse((await cli(['executions', 'list', '--status', 'error', '--json', ...db])).stdout) as { executions: Array<{ jobId: string }> }
  t.same(errorRuns.executions.map((e) => e.jobId), ['broken'])
  const detail = await cli(['executions', 'show', String(ledger[2]?.executionId), ...db])
  t.match(detail.stdout, /status:\s+error\n/)
  t.match(detail.stdout, /traceback:\nError: the report server is down\n\s+at /)
  t.notMatch(detail.stdout, /result:/, 'an error has no result')
  const succeeded = await cli(['executions', 'show', String(queuedId), ...db])
  t.match(succeeded.stdout, /\nresult:\n\{\n {2}"rows": \d+\n\}\n/, 'a success shows what the handler returned')

  // status: the app's scheduler leads
  const status = JSON.parse((await cli(['status', '--json', ...db])).stdout) as { leader: { nodeId: string } | null, running: number, queued: number, nextWakeup: string, jobs: Record<string, number> }
  t.equal(status.leader?.nodeId, scheduler.nodeId, 'the leader is the running app')
  const nodes = (status as unknown as { nodes: Array<{ nodeId: string, pid: number, tasks: string[] }> }).nodes
  t.same(nodes.map((node) => [node.nodeId, node.pid]), [[scheduler.nodeId, process.pid]], 'the live nodes: the app, with its pid')
  t.same(nodes[0]?.tasks, scheduler.taskNames, 'and its tasks')
  t.equal(status.running, 0)
  t.equal(status.queued, 0)
  const [{ next }] = await query<{ next: Date }>(url, 'SELECT min(next_run_time) AS next FROM scheduler_job WHERE NOT paused AND last_error IS NULL') as [{ next: Date }]
  t.equal(status.nextWakeup, next.toISOString(), 'next wake-up is the earliest next run time')
  t.same(status.jobs, { active: 2, paused: 1, flagged: 0, finished: 0 })
  const statusText = (await cli(['status', ...db])).stdout
  t.match(statusText, new RegExp(`leader:\\s+${scheduler.nodeId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`))
  t.match(statusText, /live nodes \(heartbeat within 3 of their intervals\):\nNODE\s+HOST\s+PID\s+ROLES/, 'the nodes table')
  t.match(statusText, new RegExp(`\\s${process.pid}\\s+plan,execute\\s`), 'the app\'s row')
  t.notMatch(statusText, /not live/, 'no running execution of a dead process')
  // A running execution whose owner is no live node (a process that died): listed apart.
  await query(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, owner, lease_until)
    VALUES ('ghost-job', now(), 'running', now(), 'ghost-node', now() + interval '1 hour')`)
  const ghost = JSON.parse((await cli(['status', '--json', ...db])).stdout) as { otherOwners: Array<{ nodeId: string, running: number }>, running: number }
  t.match(ghost.otherOwners, [{ nodeId: 'ghost-node', running: 1 }], 'the dead owner, apart from the live nodes')
  t.equal(ghost.running, 1)
  t.match((await cli(['status', ...db])).stdout, /live nodes[\s\S]*not live[\s\S]*ghost-node\s+1\s/, 'printed under its own heading')
  await query(url, "DELETE FROM scheduler_job_execution WHERE job_id = 'ghost-job'")

  // prune: only executions older than the given age
  await query(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES
    ('gone', now() - interval '8 days', 'success'), ('gone', now() - interval '9 days', 'error'),
    ('gone', now() - interval '6 days', 'success')`)
  const prune = await cli(['executions', 'prune', '--older-than', '7d', '--json', ...db])
  t.equal(prune.code, 0, prune.stderr)
  t.same(JSON.parse(prune.stdout), { deleted: 2, olderThanSeconds: 604_800 })
  t.same((await query(url, "SELECT status FROM scheduler_job_execution WHERE job_id = 'gone' ORDER BY run_time")).map((r) => r.status), ['success'], 'the 6-day-old one stays')

  // remove, then not found
  t.equal((await cli(['jobs', 'remove', 'daily-report', ...db])).code, 0)
  t.same(await query(url, "SELECT id FROM scheduler_job WHERE id = 'daily-report'"), [])
  t.ok((await query(url, "SELECT id FROM scheduler_job_execution WHERE job_id = 'daily-report'")).length > 0, 'its history stays')
  for (const args of [['jobs', 'remove', 'daily-report'], ['jobs', 'run', 'daily-report'], ['executions', 'show', '999999']]) {
    const missing = await cli([...args, ...db])
    t.equal(missing.code, 3, `${args.join(' ')}: exit 3`)
    t.match(missing.stderr, /not found/)
  }
  const missingJson = await cli(['jobs', 'show', 'daily-report', '--json', ...db])
  t.same(JSON.parse(missingJson.stderr), { error: "job 'daily-report' not found", exitCode: 3 }, 'errors in JSON with --json')
})

t.test('usage errors exit 2 and say what to fix; faults exit 1', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /a command is needed: jobs, executions, status, schema/],
    [['frob'], /unknown command 'frob'/],
    [['jobs'], /'jobs' needs a subcommand: jobs list\|show\|pause\|resume\|remove\|run/],
    [['jobs', 'lst'], /unknown subcommand 'jobs lst'/],
    [['jobs', 'show'], /'jobs show' needs <id>/],
    [['jobs', 'show', 'a', 'b'], /unexpected 'b'/],
    [['jobs', 'list', '--wait'], /'jobs list' does not take --wait/],
    [['jobs', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['jobs', 'list', '--paused', '--active', '--database-url', 'postgres://x@127.0.0.1/x'], /--paused and --active exclude each other/],
    [['jobs', 'list', '--limit', 'ten', '--database-url', 'postgres://x@127.0.0.1/x'], /--limit must be a whole number from 1 to 10000; got 'ten'/],
    [['jobs', 'run', 'x', '--timeout', '5s'], /--timeout applies to --wait/],
    [['executions', 'prune'], /needs --older-than DURATION, such as --older-than 7d/],
    [['executions', 'prune', '--older-than', '7 days'], /--older-than must be a whole number with a unit \(s, m, h, d, w\), such as 7d; got '7 days'/],
    [['executions', 'show', 'abc'], /an execution id is a positive whole number; got 'abc'/],
    [['executions', 'list', '--status', 'done', '--database-url', 'postgres://x@127.0.0.1/x'], /--status must be one of queued, running, success/],
    [['status'], /no database: pass --database-url postgres:\/\/user@host:5432\/db or set DATABASE_URL/],
    [['status', '--database-url', 'mysql://root@127.0.0.1/x'], /must be a postgres:\/\/ or postgresql:\/\/ URL, not mysql:/]
  ]
  for (const [args, message] of cases) {
    const run = await cli(args)
    t.equal(run.code, 2, `${args.join(' ') || '(nothing)'}: exit 2`)
    t.match(run.stderr, message)
    t.match(run.stderr, /Run 'fastify-mikro-scheduler --help' for usage\./)
    t.equal(run.stdout, '', 'nothing on stdout')
  }
  const help = await cli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: fastify-mikro-scheduler <command> \[options\]/)
  t.match(help.stdout, /Exit codes: 0 ok, 1 error, 2 usage, 3 not found\./)

  const unreachable = await cli(['status', '--database-url', 'postgres://postgres:s3cret@127.0.0.1:1/nowhere'])
  t.equal(unreachable.code, 1, 'an unreachable database exits 1')
  t.match(unreachable.stderr, /cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere/)
  t.notMatch(unreachable.stderr, /s3cret/, 'the password is not printed')
})
