/**
 * Job routes through `app.inject`: every route's happy path and its error codes (400 naming the
 * field, 404, 409), ids with slashes and unicode, run-now (202 queued, ?wait for the outcome),
 * fire-time previews of stored jobs and of unsaved triggers.
 */
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { query } from '../helpers/database.js'
import { cron, routesApp } from './fixtures/app.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

t.test('add, get, list, change, pause, resume, remove', async (t) => {
  const { app, url } = await routesApp(t, 'routes_jobs')

  const created = await app.inject({
    method: 'POST',
    url: '/scheduler/jobs',
    payload: { id: 'reports/eu', task: 'reports.daily', trigger: cron('30 9 * * mon-fri', 'Europe/Berlin'), args: ['eu', { top: 10 }], name: 'EU report', maxInstances: 2 }
  })
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.headers.location, '/scheduler/jobs/reports%2Feu', 'Location is the encoded URL of the job')
  const job = created.json()
  t.match(job, {
    id: 'reports/eu',
    name: 'EU report',
    task: 'reports.daily',
    args: ['eu', { top: 10 }],
    trigger: { type: 'cron', expression: '30 9 * * mon-fri', timezone: 'Europe/Berlin' },
    description: 'At 09:30 AM, Monday through Friday (Europe/Berlin)',
    state: 'scheduled',
    paused: false,
    misfireGraceTime: null,
    coalesce: true,
    maxInstances: 2,
    timeoutMs: null,
    version: Number,
    lastError: null
  })
  for (const key of ['nextRunTime', 'nextFireTime', 'createdAt', 'updatedAt']) {
    t.match(job[key], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `${key} is an ISO string`)
  }

  const fetched = await app.inject({ url: '/scheduler/jobs/reports%2Feu' })
  t.equal(fetched.statusCode, 200, 'a job id with a slash is addressed as %2F')
  t.same(fetched.json(), job)

  const unicode = await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'rapport-été-日报', task: 'echo', trigger: { type: 'interval', hours: 1 } } })
  t.equal(unicode.statusCode, 201)
  t.equal(unicode.headers.location, `/scheduler/jobs/${encodeURIComponent('rapport-été-日报')}`)
  t.equal((await app.inject({ url: `/scheduler/jobs/${encodeURIComponent('rapport-été-日报')}` })).json().description, 'Every hour (UTC)')

  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'paused-one', task: 'echo', trigger: cron('0 0 * * *'), paused: true } })

  const all = (await app.inject({ url: '/scheduler/jobs' })).json()
  t.same(all.items.map((item: { id: string }) => item.id), ['paused-one', 'rapport-été-日报', 'reports/eu'], 'ordered by id')
  t.match(all, { total: 3, limit: 50, offset: 0 }, 'defaults: limit 50, offset 0')
  t.equal(all.items.find((item: { id: string }) => item.id === 'paused-one').state, 'paused')

  const page = (await app.inject({ url: '/scheduler/jobs?limit=1&offset=1' })).json()
  t.same([page.items.map((item: { id: string }) => item.id), page.total, page.limit, page.offset], [['rapport-été-日报'], 3, 1, 1], 'paginated, total over all pages')
  t.same((await app.inject({ url: '/scheduler/jobs?task=echo' })).json().items.map((item: { id: string }) => item.id), ['paused-one', 'rapport-été-日报'], 'filter by task')
  t.same((await app.inject({ url: '/scheduler/jobs?paused=true' })).json().items.map((item: { id: string }) => item.id), ['paused-one'], 'filter by paused')
  t.same((await app.inject({ url: '/scheduler/jobs?paused=false&search=EU%20REP' })).json().items.map((item: { id: string }) => item.id), ['reports/eu'], 'search in the name, case-insensitive')
  t.same((await app.inject({ url: '/scheduler/jobs?search=%25' })).json().total, 0, 'a LIKE wildcard is searched literally')
  t.same((await app.inject({ url: '/scheduler/jobs?flagged=true' })).json().total, 0, 'filter by flagged')

  t.equal((await app.inject({ url: '/scheduler/jobs/reports%2Feu' })).json().captureLogs, true, 'captureLogs defaults to true')
  const changed = await app.inject({ method: 'PATCH', url: '/scheduler/jobs/reports%2Feu', payload: { args: ['us'], trigger: { type: 'interval', minutes: 5 }, timeoutMs: 60_000, captureLogs: false } })
  t.equal(changed.statusCode, 200, changed.body)
  t.match(changed.json(), { args: ['us'], trigger: { type: 'interval', minutes: 5 }, description: 'Every 5 minutes (UTC)', timeoutMs: 60_000, maxInstances: 2, captureLogs: false })
  t.ok(changed.json().version > job.version, 'version bumped')

  const paused = (await app.inject({ method: 'POST', url: '/scheduler/jobs/reports%2Feu/pause' })).json()
  t.match(paused, { paused: true, state: 'paused' })
  const resumed = await app.inject({ method: 'POST', url: '/scheduler/jobs/reports%2Feu/resume', headers: JSON_HEADERS, payload: '' })
  t.equal(resumed.statusCode, 200, 'an empty JSON body is no body')
  t.match(resumed.json(), { paused: false, state: 'scheduled', nextRunTime: String })

  const removed = await app.inject({ method: 'DELETE', url: '/scheduler/jobs/reports%2Feu' })
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  t.equal((await app.inject({ url: '/scheduler/jobs/reports%2Feu' })).statusCode, 404)
  t.same(await query(url, 'select id from scheduler_job order by id'), [{ id: 'paused-one' }, { id: 'rapport-été-日报' }])
})

t.test('error codes of the job routes', async (t) => {
  const { app } = await routesApp(t, 'routes_job_errors')
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'taken', task: 'echo', trigger: cron('* * * * *') } })

  const cases: Array<[string, InjectOptions, number, string, RegExp]> = [
    ['conflicting id', { method: 'POST', url: '/scheduler/jobs', payload: { id: 'taken', task: 'echo', trigger: cron('* * * * *') } }, 409, 'FST_SCHEDULER_CONFLICTING_ID', /job 'taken' already exists/],
    ['unknown task', { method: 'POST', url: '/scheduler/jobs', payload: { id: 'x', task: 'ghost', trigger: cron('* * * * *') } }, 400, 'FST_SCHEDULER_TASK_NOT_REGISTERED', /task 'ghost' is not registered/],
    ['bad trigger', { method: 'POST', url: '/scheduler/jobs', payload: { id: 'x', task: 'echo', trigger: { type: 'cron', fields: { hour: 24 } } } }, 400, 'FST_SCHEDULER_INVALID_TRIGGER', /fields\.hour/],
    ['missing field', { method: 'POST', url: '/scheduler/jobs', payload: { id: 'x', trigger: cron('* * * * *') } }, 400, 'FST_ERR_VALIDATION', /body\.task: is required/],
    ['get unknown', { url: '/scheduler/jobs/nope' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /job 'nope' does not exist/],
    ['patch unknown', { method: 'PATCH', url: '/scheduler/jobs/nope', payload: { name: 'n' } }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['patch bad trigger', { method: 'PATCH', url: '/scheduler/jobs/taken', payload: { trigger: { type: 'interval', seconds: -1 } } }, 400, 'FST_SCHEDULER_INVALID_TRIGGER', /seconds/],
    ['patch unknown task', { method: 'PATCH', url: '/scheduler/jobs/taken', payload: { task: 'ghost' } }, 400, 'FST_SCHEDULER_TASK_NOT_REGISTERED', /ghost/],
    ['patch the id', { method: 'PATCH', url: '/scheduler/jobs/taken', payload: { id: 'other' } }, 400, 'FST_ERR_VALIDATION', /body: unknown field 'id'/],
    ['patch nothing', { method: 'PATCH', url: '/scheduler/jobs/taken', payload: {} }, 400, 'FST_ERR_VALIDATION', /body: give at least 1 field/],
    ['delete unknown', { method: 'DELETE', url: '/scheduler/jobs/nope' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['pause unknown', { method: 'POST', url: '/scheduler/jobs/nope/pause' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['resume unknown', { method: 'POST', url: '/scheduler/jobs/nope/resume' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['run unknown', { method: 'POST', url: '/scheduler/jobs/nope/run' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['run with a bad wait', { method: 'POST', url: '/scheduler/jobs/taken/run?wait=30001' }, 400, 'FST_ERR_VALIDATION', /query\.wait: must be <= 30000/],
    ['fire times of unknown', { url: '/scheduler/jobs/nope/fire-times' }, 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /'nope'/],
    ['fire times count 0', { url: '/scheduler/jobs/taken/fire-times?count=0' }, 400, 'FST_ERR_VALIDATION', /query\.count: must be >= 1/],
    ['fire times count 101', { url: '/scheduler/jobs/taken/fire-times?count=101' }, 400, 'FST_ERR_VALIDATION', /query\.count: must be <= 100/],
    ['preview a bad trigger', { method: 'POST', url: '/scheduler/fire-times', payload: { trigger: { type: 'cron', expression: '0 0 30 2 *' } } }, 400, 'FST_SCHEDULER_INVALID_TRIGGER', /expression/],
    ['preview without trigger', { method: 'POST', url: '/scheduler/fire-times', payload: { count: 3 } }, 400, 'FST_ERR_VALIDATION', /body\.trigger: is required/],
    ['list with limit 0', { url: '/scheduler/jobs?limit=0' }, 400, 'FST_ERR_VALIDATION', /query\.limit: must be >= 1/]
  ]
  for (const [what, request, status, code, message] of cases) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${what}: ${status}`)
    t.match(response.json(), { statusCode: status, code, error: String, message }, what)
  }
})

t.test('run now: 202 with the queued execution; ?wait gives the outcome', async (t) => {
  const { app } = await routesApp(t, 'routes_run')
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'ok', task: 'echo', trigger: cron('0 0 1 1 *') } })
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'bad', task: 'fail', trigger: cron('0 0 1 1 *') } })

  const queued = await app.inject({ method: 'POST', url: '/scheduler/jobs/ok/run' })
  t.equal(queued.statusCode, 202, 'accepted at once')
  t.match(queued.json(), { id: Number, jobId: 'ok', status: 'queued', statusLabel: 'Queued', runTime: String, startedAt: null, durationMs: null })
  const done = await app.scheduler.waitForExecution(queued.json().id)
  t.equal(done.status, 'success', 'the leader ran it')

  const waited = await app.inject({ method: 'POST', url: '/scheduler/jobs/bad/run?wait=20000' })
  t.equal(waited.statusCode, 200, 'finished within the wait')
  t.match(waited.json(), { jobId: 'bad', status: 'error', statusLabel: 'Error!', exception: /boom: failed on purpose/, traceback: /Error: boom/, durationMs: Number, startedAt: String, finishedAt: String })

  const list = (await app.inject({ url: '/scheduler/jobs' })).json()
  const bad = list.items.find((item: { id: string }) => item.id === 'bad')
  const ok = list.items.find((item: { id: string }) => item.id === 'ok')
  t.match(bad.lastExecution, { id: waited.json().id, status: 'error', statusLabel: 'Error!' }, 'list items carry their last execution')
  t.notOk('traceback' in bad.lastExecution, 'without the traceback')
  t.equal(bad.averageDurationMs, waited.json().durationMs, 'and the mean duration of the recent ones')
  t.match(ok.lastExecution, { id: done.id, status: 'success' })

  const stopped = app.scheduler.once('scheduler:shutdown')
  await app.scheduler.shutdown()
  await stopped
  const notRun = await app.inject({ method: 'POST', url: '/scheduler/jobs/ok/run?wait=50' })
  t.equal(notRun.statusCode, 202, 'not finished within the wait (nobody runs the loop): 202 with its current state')
  t.match(notRun.json(), { status: 'queued' })
})

t.test('fire times of a stored job and of an unsaved trigger', async (t) => {
  const clock = new Date('2026-03-02T08:00:00.000Z')
  const { app } = await routesApp(t, 'routes_fire_times', { plugin: { clock: () => clock } })
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'weekday', task: 'echo', trigger: cron('30 9 * * mon-fri') } })

  const five = await app.inject({ url: '/scheduler/jobs/weekday/fire-times' })
  t.equal(five.statusCode, 200)
  t.same(five.json(), {
    description: 'At 09:30 AM, Monday through Friday (UTC)',
    fireTimes: ['2026-03-02T09:30:00.000Z', '2026-03-03T09:30:00.000Z', '2026-03-04T09:30:00.000Z', '2026-03-05T09:30:00.000Z', '2026-03-06T09:30:00.000Z']
  }, 'five by default, from the next fire time')
  t.equal((await app.inject({ url: '/scheduler/jobs/weekday/fire-times?count=100' })).json().fireTimes.length, 100)

  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'once', task: 'echo', trigger: { type: 'date', runDate: '2026-03-02 12:00:00' } } })
  t.same((await app.inject({ url: '/scheduler/jobs/once/fire-times?count=3' })).json().fireTimes, ['2026-03-02T12:00:00.000Z'], 'fewer when the trigger ends')

  const preview = await app.inject({ method: 'POST', url: '/scheduler/fire-times', payload: { trigger: { type: 'interval', hours: 6 }, count: 3 } })
  t.equal(preview.statusCode, 200)
  t.same(preview.json(), {
    description: 'Every 6 hours (UTC)',
    fireTimes: ['2026-03-02T14:00:00.000Z', '2026-03-02T20:00:00.000Z', '2026-03-03T02:00:00.000Z']
  }, 'an unsaved interval starts one period after now, as addJob would schedule it')
  t.same((await app.inject({ method: 'POST', url: '/scheduler/fire-times', payload: { trigger: cron('0 0 29 2 *') } })).json().fireTimes.slice(0, 2),
    ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z'], 'sparse triggers preview quickly')

  await app.inject({ method: 'POST', url: '/scheduler/jobs/weekday/pause' })
  t.same((await app.inject({ url: '/scheduler/jobs/weekday/fire-times?count=1' })).json().fireTimes, ['2026-03-02T09:30:00.000Z'], 'a paused job previews from now')
})

t.test("ids up to 200 characters, when the host raises Fastify's maxParamLength (default 100)", async (t) => {
  const { app } = await routesApp(t, 'routes_long_ids', { fastify: { maxParamLength: 2400 } })
  const id = 'é/'.repeat(100)
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id, task: 'echo', trigger: cron('0 0 1 1 *') } })).statusCode, 201)
  const encoded = encodeURIComponent(id)
  t.equal((await app.inject({ url: `/scheduler/jobs/${encoded}` })).json().id, id, 'a 200-character id with slashes and accents, encoded')
  t.equal((await app.inject({ method: 'POST', url: `/scheduler/jobs/${encoded}/pause` })).json().state, 'paused')
  const tooLong = await app.inject({ url: `/scheduler/jobs/${'j'.repeat(201)}` })
  t.equal(tooLong.statusCode, 400)
  t.match(tooLong.json(), { code: 'FST_ERR_VALIDATION', message: 'params.id: must not have more than 200 characters' })
})

t.test('a job whose stored trigger cannot be loaded: listed as flagged, no description, preview refused', async (t) => {
  const { app, url } = await routesApp(t, 'routes_flagged')
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'broken', task: 'echo', trigger: cron('0 0 1 1 *') } })
  await query(url, `update scheduler_job set trigger = '{"type":"cron","version":9,"expression":"* * * * *"}', last_error = 'stored trigger cannot be loaded' where id = 'broken'`)
  const job = (await app.inject({ url: '/scheduler/jobs/broken' })).json()
  t.match(job, { state: 'flagged', description: null, lastError: 'stored trigger cannot be loaded' })
  t.same((await app.inject({ url: '/scheduler/jobs?flagged=true' })).json().items.map((item: { id: string }) => item.id), ['broken'])
  const preview = await app.inject({ url: '/scheduler/jobs/broken/fire-times' })
  t.equal(preview.statusCode, 400)
  t.match(preview.json(), { code: 'FST_SCHEDULER_INVALID_TRIGGER', message: /version/ })
  const fixed = await app.inject({ method: 'PATCH', url: '/scheduler/jobs/broken', payload: { trigger: cron('0 0 1 1 *') } })
  t.match(fixed.json(), { state: 'scheduled', lastError: null, description: 'At 12:00 AM, on day 1 of the month, only in January (UTC)' }, 'rescheduling fixes it')
})
