/**
 * Execution routes through `app.inject`: lists newest first with filters (job, status, run-time
 * range) and pagination, the detail view with its traceback, the history of a removed job, and
 * the error codes (400 naming the field, 404).
 */
import t from 'tap'
import { cron, routesApp } from './fixtures/app.js'

interface Item { id: number, jobId: string, status: string, runTime: string, traceback?: string }

t.test('list, filter, paginate and read executions', async (t) => {
  const { app } = await routesApp(t, 'routes_executions')
  for (const [id, task] of [['ok', 'echo'], ['bad', 'fail']]) {
    t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id, task, trigger: cron('0 0 1 1 *') } })).statusCode, 201)
  }
  const ran: Item[] = []
  for (const id of ['ok', 'bad', 'ok', 'bad', 'ok']) {
    const run = await app.inject({ method: 'POST', url: `/scheduler/jobs/${id}/run` })
    const finished = await app.scheduler.waitForExecution(run.json().id)
    ran.push({ id: finished.id, jobId: id, status: finished.status, runTime: finished.runTime.toISOString() })
  }
  const newestFirst = [...ran].reverse()

  const all = await app.inject({ url: '/scheduler/executions' })
  t.equal(all.statusCode, 200)
  const body = all.json()
  t.match(body, { total: 5, limit: 50, offset: 0 })
  t.same(body.items.map((item: Item) => item.id), newestFirst.map((item) => item.id), 'newest first')
  t.match(body.items[0], { jobId: 'ok', status: 'success', statusLabel: 'Executed', runTime: String, startedAt: String, finishedAt: String, durationMs: Number, exception: null, owner: String })
  t.notOk('traceback' in body.items[0], 'lists leave the traceback out')
  t.notOk('result' in body.items[0], 'and the result')

  const errors = (await app.inject({ url: '/scheduler/executions?status=error' })).json()
  t.same(errors.items.map((item: Item) => item.jobId), ['bad', 'bad'], 'filter by status')
  t.match(errors.items[0], { statusLabel: 'Error!', exception: /boom: failed on purpose/ })
  t.equal((await app.inject({ url: '/scheduler/executions?jobId=ok' })).json().total, 3, 'filter by job')

  const [first, second, third] = ran as [Item, Item, Item]
  const range = (await app.inject({ url: `/scheduler/executions?from=${encodeURIComponent(second.runTime)}&to=${encodeURIComponent(third.runTime)}` })).json()
  t.same(range.items.map((item: Item) => item.id), [third.id, second.id], 'run-time range, both ends inclusive')
  const page = (await app.inject({ url: '/scheduler/executions?limit=2&offset=1' })).json()
  t.same([page.items.map((item: Item) => item.id), page.total, page.limit, page.offset], [newestFirst.slice(1, 3).map((item) => item.id), 5, 2, 1], 'paginated')

  const ofJob = await app.inject({ url: '/scheduler/jobs/bad/executions?limit=1' })
  t.equal(ofJob.statusCode, 200)
  t.match(ofJob.json(), { total: 2, limit: 1, offset: 0, items: [{ jobId: 'bad', id: ran[3]?.id }] }, "a job's executions")
  t.equal((await app.inject({ url: '/scheduler/jobs/ok/executions?status=error' })).json().total, 0)

  const detail = await app.inject({ url: `/scheduler/executions/${ran[1]?.id}` })
  t.equal(detail.statusCode, 200)
  t.match(detail.json(), { id: ran[1]?.id, jobId: 'bad', status: 'error', exception: /boom/, traceback: /Error: boom: failed on purpose\n\s+at / }, 'the detail has the traceback')
  t.match((await app.inject({ url: `/scheduler/executions/${first.id}` })).json(), { status: 'success', traceback: null })
  t.same((await app.inject({ url: `/scheduler/executions/${first.id}` })).json().result, { echoed: true }, 'the detail has the handler\'s result')
  t.equal(detail.json().result, null, 'an error has no result')
  t.equal(detail.json().logs, null, 'nor logs (it logged nothing)')
  t.notOk('logs' in body.items[0], 'lists leave logs out')

  t.equal((await app.inject({ method: 'DELETE', url: '/scheduler/jobs/bad' })).statusCode, 204)
  t.equal((await app.inject({ url: '/scheduler/executions?jobId=bad' })).json().total, 2, 'the history outlives its job')
  const gone = await app.inject({ url: '/scheduler/jobs/bad/executions' })
  t.equal(gone.statusCode, 404, "a removed job's route is 404; its history stays under /executions?jobId=")
  t.equal(gone.json().code, 'FST_SCHEDULER_JOB_NOT_FOUND')
})

t.test('error codes of the execution routes', async (t) => {
  const { app } = await routesApp(t, 'routes_execution_errors')
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['unknown execution', '/scheduler/executions/999999', 404, 'FST_SCHEDULER_EXECUTION_NOT_FOUND', /execution 999999 does not exist/],
    ['id not a number', '/scheduler/executions/abc', 400, 'FST_ERR_VALIDATION', /params\.id: must be integer/],
    ['fractional id', '/scheduler/executions/1.5', 400, 'FST_ERR_VALIDATION', /params\.id: must be integer/],
    ['id 0', '/scheduler/executions/0', 400, 'FST_ERR_VALIDATION', /params\.id: must be >= 1/],
    ['id beyond 2^53', '/scheduler/executions/9007199254740993', 400, 'FST_ERR_VALIDATION', /params\.id: must be <=/],
    ['unknown status', '/scheduler/executions?status=done', 400, 'FST_ERR_VALIDATION', /query\.status: must be one of "queued", "running", "success"/],
    ['bad from', '/scheduler/executions?from=yesterday', 400, 'FST_ERR_VALIDATION', /query\.from: must match format "date-time"/],
    ['from after to', '/scheduler/executions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 400, 'FST_ERR_VALIDATION', /query\.from: 2026-02-01T00:00:00Z is after query\.to/],
    ['negative offset', '/scheduler/executions?offset=-1', 400, 'FST_ERR_VALIDATION', /query\.offset: must be >= 0/],
    ['limit too large', '/scheduler/executions?limit=501', 400, 'FST_ERR_VALIDATION', /query\.limit: must be <= 500/],
    ['unknown filter', '/scheduler/executions?job=x', 400, 'FST_ERR_VALIDATION', /query: unknown field 'job' \(known: jobId, status, from, to, limit, offset\)/],
    ['executions of an unknown job', '/scheduler/jobs/nope/executions', 404, 'FST_SCHEDULER_JOB_NOT_FOUND', /job 'nope' does not exist/]
  ]
  for (const [what, url, status, code, message] of cases) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, status, `${what}: ${status}`)
    t.match(response.json(), { statusCode: status, code, message }, what)
  }
})
