/**
 * The audit trail through the REST routes: every changing route records its action with the
 * request's actor (the guard's `request.user.id` by default, a custom `actor` hook, `'api'` when
 * neither names anyone, `'api'` with a warning when the hook fails), and the two list routes'
 * filters, pagination, ordering and 404.
 */
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { query } from '../helpers/database.js'
import { routesApp } from './fixtures/app.js'

const every = { type: 'interval', minutes: 10 } as const

/** A guard that authenticates `authorization: user <id>` and sets `request.user` as auth plugins do. */
async function guard (request: FastifyRequest): Promise<void> {
  const [, id] = /^user (.+)$/.exec(request.headers.authorization ?? '') ?? []
  if (id !== undefined) Object.assign(request, { user: { id: /^\d+$/.test(id) ? Number(id) : id } })
}

t.test("every changing route records its action with the guard's request.user.id", async (t) => {
  const { app } = await routesApp(t, 'routes_audit_user', { routes: { insecure: false, onRequest: guard } })
  const as = (user: string) => ({ authorization: `user ${user}` })
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', headers: as('alice'), payload: { id: 'a', task: 'echo', trigger: every } })).statusCode, 201)
  t.equal((await app.inject({ method: 'PATCH', url: '/scheduler/jobs/a', headers: as('bob'), payload: { name: 'Renamed', args: [1] } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: '/scheduler/jobs/a', headers: as('bob'), payload: { trigger: { type: 'interval', hours: 1 } } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs/a/pause', headers: as('42') })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs/a/resume', headers: as('42') })).statusCode, 200)
  const run = await app.inject({ method: 'POST', url: '/scheduler/jobs/a/run', headers: as('carol') })
  t.equal(run.statusCode, 202)
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'b', task: 'echo', trigger: every } })).statusCode, 201, 'a request without a user')
  t.equal((await app.inject({ method: 'DELETE', url: '/scheduler/jobs/b', headers: as('dave') })).statusCode, 204)

  const page = await app.inject({ url: '/scheduler/audit' })
  t.equal(page.statusCode, 200)
  t.same(page.json().items.map((item: { action: string, jobId: string, actor: string }) => [item.action, item.jobId, item.actor]).reverse(), [
    ['added', 'a', 'alice'],
    ['modified', 'a', 'bob'],
    ['rescheduled', 'a', 'bob'],
    ['paused', 'a', '42'],
    ['resumed', 'a', '42'],
    ['run', 'a', 'carol'],
    ['added', 'b', 'api'],
    ['removed', 'b', 'dave']
  ], "request.user.id (a number becomes its digits); 'api' when the guard named nobody")
  const items = page.json().items as Array<{ id: number, at: string, action: string, changes: Record<string, unknown> }>
  t.match(items.find((item) => item.action === 'modified'), { id: Number, at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, changes: { name: { before: 'a', after: 'Renamed' }, args: { before: [], after: [1] } } })
  t.same(items.find((item) => item.action === 'run')?.changes, { executionId: { before: null, after: run.json().id } })
})

t.test('the action follows what changed, whatever was sent: the whole job with a new trigger is rescheduled; a JWT subject is the actor', async (t) => {
  const jwt = async (request: FastifyRequest): Promise<void> => { Object.assign(request, { user: { sub: 'auth0|7', scope: 'admin' } }) }
  const { app } = await routesApp(t, 'routes_audit_action', { routes: { insecure: false, onRequest: jwt } })
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'f', task: 'echo', trigger: every } })).statusCode, 201)
  // As the admin form saves: every field, only the trigger different.
  const whole = { task: 'echo', name: 'f', args: [], coalesce: true, maxInstances: 1, misfireGraceTime: null, timeoutMs: null, captureLogs: true }
  t.equal((await app.inject({ method: 'PATCH', url: '/scheduler/jobs/f', payload: { ...whole, trigger: { type: 'interval', hours: 2 } } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: '/scheduler/jobs/f', payload: { paused: true } })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: '/scheduler/jobs/f', payload: { ...whole, name: 'F', trigger: { type: 'interval', hours: 3 } } })).statusCode, 200)
  const items = (await app.inject({ url: '/scheduler/jobs/f/audit' })).json().items as Array<{ action: string, actor: string }>
  t.same(items.map((item) => [item.action, item.actor]).reverse(), [
    ['added', 'auth0|7'], ['rescheduled', 'auth0|7'], ['paused', 'auth0|7'], ['modified', 'auth0|7']
  ], 'rescheduled (only the trigger changed), paused (a PATCH of paused), modified (name and trigger); the actor is the JWT\'s sub')
})

t.test('a custom actor hook names the actor; a hook that throws or answers no string records "api" and warns', async (t) => {
  const warnings: string[] = []
  let mode: 'email' | 'throw' | 'number' | 'reject' | 'hostile' = 'email'
  const actor = async (request: FastifyRequest): Promise<string> => {
    if (mode === 'throw') throw new Error('directory down')
    if (mode === 'reject') return Promise.reject(new Error('lookup failed'))
    if (mode === 'number') return 7 as unknown as string
    if (mode === 'hostile') return `mallory\u0000${'m'.repeat(1000)}`
    return `${String(request.headers['x-email'])}`
  }
  const { app } = await routesApp(t, 'routes_audit_hook', {
    routes: { actor },
    fastify: { logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(line) } } } }
  })
  const pause = async (): Promise<number> => (await app.inject({ method: 'POST', url: '/scheduler/jobs/a/pause', headers: { 'x-email': 'ops@example.com' } })).statusCode
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', headers: { 'x-email': 'ops@example.com' }, payload: { id: 'a', task: 'echo', trigger: every } })).statusCode, 201)
  for (const next of ['throw', 'reject', 'number', 'hostile'] as const) {
    mode = next
    t.equal(await pause(), 200, `${next}: the request itself succeeds`)
  }
  const actors = (await app.scheduler.getAudit({ jobId: 'a' })).map((row) => row.actor).reverse()
  t.equal(actors[0], 'ops@example.com', "the hook's answer")
  t.same(actors.slice(1, 4), ['api', 'api', 'api'], 'a throw, a rejection, a number: api')
  t.match(actors[4], /^mallory\uFFFDm+/, 'NUL replaced')
  t.ok(actors[4]!.length < 400, 'and the length bounded')
  t.equal(warnings.filter((line) => /actor hook/.test(line)).length, 3, 'one warning per failed hook, on the request log')
  t.match(warnings.join(''), /"reqId"/, 'logged through the request logger')
})

t.test("an insecure app without user or hook records 'api'; a bad actor option is refused at registration", async (t) => {
  const { app } = await routesApp(t, 'routes_audit_api')
  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'a', task: 'echo', trigger: every } })
  t.match(await app.scheduler.getAudit(), [{ action: 'added', actor: 'api' }])
  await t.rejects(routesApp(t, 'routes_audit_bad_option', { routes: { actor: 'alice' as never } }), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /routes\.actor: must be a function/ })
})

t.test('GET /audit and GET /jobs/:id/audit: filters, pagination, newest first, removed jobs, 404', async (t) => {
  const { app, url } = await routesApp(t, 'routes_audit_list')
  for (const id of ['a', 'b']) await app.scheduler.addJob({ id, task: 'echo', trigger: every }, { actor: 'alice' })
  await app.scheduler.pauseJob('a', { actor: 'bob' })
  await app.scheduler.resumeJob('a', { actor: 'alice' })
  await app.scheduler.removeJob('b', { actor: 'bob' })
  // Spread the rows a minute apart, in the order written, so the time filters are exact.
  await query(url, "UPDATE scheduler_audit SET at = timestamptz '2026-12-01T10:00:00Z' + (id - 1) * interval '1 minute'")
  const get = async (path: string) => {
    const response = await app.inject({ url: `/scheduler${path}` })
    t.equal(response.statusCode, 200, path)
    const body = response.json() as { items: Array<{ action: string, jobId: string, actor: string, at: string }>, total: number, limit: number, offset: number }
    return { ...body, rows: body.items.map((item) => `${item.action}:${item.jobId}:${item.actor}`) }
  }
  const all = await get('/audit')
  t.same(all.rows, ['removed:b:bob', 'resumed:a:alice', 'paused:a:bob', 'added:b:alice', 'added:a:alice'], 'newest first')
  t.match(all, { total: 5, limit: 50, offset: 0 }, 'the list conventions: defaults limit 50, offset 0')
  t.same((await get('/audit?jobId=b')).rows, ['removed:b:bob', 'added:b:alice'], 'the trail of a removed job stays')
  t.same((await get('/audit?actor=bob')).rows, ['removed:b:bob', 'paused:a:bob'])
  t.same((await get('/audit?from=2026-12-01T10:01:00Z&to=2026-12-01T10:03:00%2B00:00')).rows, ['resumed:a:alice', 'paused:a:bob', 'added:b:alice'], 'from and to inclusive')
  const paged = await get('/audit?limit=2&offset=1')
  t.same(paged.rows, ['resumed:a:alice', 'paused:a:bob'])
  t.match(paged, { total: 5, limit: 2, offset: 1 })
  const job = await get('/jobs/a/audit?actor=alice')
  t.same(job.rows, ['resumed:a:alice', 'added:a:alice'])
  t.equal(job.total, 2)
  const gone = await app.inject({ url: '/scheduler/jobs/b/audit' })
  t.equal(gone.statusCode, 404, "a removed job's page is gone; GET /audit?jobId= keeps its trail")
  t.equal(gone.json().code, 'FST_SCHEDULER_JOB_NOT_FOUND')
})
