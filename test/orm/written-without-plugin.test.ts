/**
 * Jobs written by a process that has the ORM and our entities but not the plugin (a seed script,
 * an admin tool), or by plain SQL: the running scheduler computes their first occurrence and runs
 * them, instead of reading `next_run_time = null` as "finished". ORM writes bump `version` and
 * `updated_at` like the scheduler's own writes.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { SchedulerJob, schedulerPlugin } from '../../src/index.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'

async function setup (t: Test) {
  const url = await freshDatabase(t, 'without_plugin')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  const runs: string[] = []
  await app.register(schedulerPlugin, { orm, tasks: { work: async (ctx) => { runs.push(ctx.job.id) } }, pollIntervalMs: 300 })
  await app.ready()
  // The seed script: its own ORM on the same database, no plugin (so no subscriber fills anything in).
  const seed = await openOrm(t, url)
  return { app, url, seed, runs }
}

t.test('a job flushed by an ORM without the plugin is scheduled and runs', async (t) => {
  const { app, seed, runs } = await setup(t)
  const em = seed.em.fork()
  em.create(SchedulerJob, { id: 'seeded', name: 'seeded', task: 'work', args: [], trigger: { type: 'interval', seconds: 1 } } as never)
  await em.flush()

  await waitUntil('two runs of the seeded job', () => runs.filter((id) => id === 'seeded').length >= 2)
  const job = await app.scheduler.getJob('seeded')
  t.ok(job?.nextRunTime instanceof Date, 'it has a next run time, so it is not shown as finished')
  t.ok((job?.version ?? 0) > 1, 'computing its first occurrence bumped its version')
})

t.test('a job inserted with plain SQL is scheduled too; one that cannot fire stays finished; a bad trigger is flagged', async (t) => {
  const { app, url, runs } = await setup(t)
  const runDate = new Date(Date.now() + 5000).toISOString()
  await query(url, `INSERT INTO scheduler_job (id, name, task, trigger) VALUES
    ('sql-date', 'sql-date', 'work', '{"type":"date","runDate":"${runDate}"}'),
    ('sql-past', 'sql-past', 'work', '{"type":"date","runDate":"2020-01-01T00:00:00Z"}'),
    ('sql-ended', 'sql-ended', 'work', '{"type":"interval","seconds":5,"startDate":"2020-01-01T00:00:00Z","endDate":"2020-01-02T00:00:00Z"}'),
    ('sql-bad', 'sql-bad', 'work', '{"type":"cron","expression":"61 * * * *"}')`)

  await waitUntil('the date job to run at its date', () => runs.includes('sql-date'))
  const bad = await waitUntil('the bad trigger to be flagged', async () => (await app.scheduler.getJob('sql-bad'))?.lastError)
  t.match(bad, /stored trigger cannot be loaded/, 'flagged with the reason, kept')
  const ended = await app.scheduler.getJob('sql-ended')
  t.equal(ended?.nextRunTime, null, 'a trigger whose end date passed has no occurrence: the job stays finished')
  t.equal(ended?.version, 1, 'and is not written')
  // A past date looks exactly like a finished job whose history was deleted: running it could run
  // that occurrence twice, so it stays finished.
  const past = await app.scheduler.getJob('sql-past')
  t.equal(past?.nextRunTime, null, 'a date already past stays finished')
  t.equal(past?.version, 1, 'and is not written')
  t.notOk(runs.includes('sql-past'), 'and never runs')
  t.same(runs.filter((id) => id === 'sql-date'), ['sql-date'], 'the date job ran exactly once (it is finished now, with an execution)')
})

t.test('ORM flushes bump version and updated_at', async (t) => {
  const { app, seed } = await setup(t)
  await app.scheduler.addJob({ id: 'edited', task: 'work', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
  const before = await app.scheduler.getJob('edited')
  const em = seed.em.fork()
  const job = await em.findOneOrFail(SchedulerJob, { id: 'edited' })
  job.name = 'renamed by the ORM'
  await em.flush()
  const after = await app.scheduler.getJob('edited')
  t.equal(after?.name, 'renamed by the ORM')
  t.equal(after?.version, (before?.version ?? 0) + 1, 'version bumped by one')
  t.ok((after?.updatedAt.getTime() ?? 0) > (before?.updatedAt.getTime() ?? Infinity), 'updated_at moved forward')

  // A stale copy (the scheduler wrote the job since it was read) is refused, not silently overwritten.
  const stale = seed.em.fork()
  const copy = await stale.findOneOrFail(SchedulerJob, { id: 'edited' })
  await app.scheduler.pauseJob('edited')
  copy.name = 'stale write'
  await t.rejects(stale.flush(), { name: 'OptimisticLockError' }, 'a flush of a stale version fails')
  t.equal((await app.scheduler.getJob('edited'))?.paused, true, 'the pause stands')
})
