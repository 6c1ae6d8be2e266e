/**
 * Registering the admin routes: a guard is required unless `insecure: true`, options are checked
 * with the option named, the guard hooks run on every route (and only there), the main plugin's
 * `routes` option mounts them, and `@fastify/swagger` sees their schemas.
 */
import swagger from '@fastify/swagger'
import Fastify, { type FastifyReply, type FastifyRequest, type HTTPMethods } from 'fastify'
import t from 'tap'
import { schedulerPlugin, schedulerRoutes } from '../../src/index.js'
import { freshDatabase, openOrm } from '../helpers/database.js'
import { TASKS } from './fixtures/app.js'

const TOKEN = 's3cret-token'

/** A host's bearer-token guard: 401 unless `Authorization: Bearer s3cret-token`. */
async function requireToken (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.headers.authorization !== `Bearer ${TOKEN}`) await reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'missing or wrong token' })
}

t.test('registration needs a guard unless insecure: true, and checks its options', async (t) => {
  const url = await freshDatabase(t, 'routes_registration')
  const orm = await openOrm(t, url)
  const guard = async (): Promise<void> => {}
  const cases: Array<[string, unknown, RegExp]> = [
    ['no guard', { prefix: '/scheduler' }, /invalid scheduler option routes: the admin routes can change and run jobs, so they need a guard: pass onRequest or preHandler/],
    ['empty guard list', { prefix: '/scheduler', onRequest: [] }, /need a guard/],
    ['insecure: false', { prefix: '/scheduler', insecure: false }, /need a guard/],
    ['insecure not a boolean', { prefix: '/scheduler', insecure: 'yes' }, /routes\.insecure: must be true or false, got "yes"/],
    ['misspelt option', { prefix: '/scheduler', onrequest: guard }, /routes\.onrequest: is not an option of the admin routes; known options: prefix, onRequest, preHandler, insecure, bodyLimit/],
    ['guard not a function', { prefix: '/scheduler', onRequest: 'token' }, /routes\.onRequest: must be a hook function/],
    ['preHandler list with a non-function', { prefix: '/scheduler', preHandler: [guard, 5] }, /routes\.preHandler: must be a hook function/],
    ['no prefix', { onRequest: guard }, /routes\.prefix: must be a path such as '\/scheduler', got undefined/],
    ['relative prefix', { prefix: 'scheduler', onRequest: guard }, /routes\.prefix: must be a path/],
    ['tiny body limit', { prefix: '/scheduler', onRequest: guard, bodyLimit: 10 }, /routes\.bodyLimit: must be a whole number of bytes, at least 1024, got 10/]
  ]
  for (const [what, options, message] of cases) {
    const app = Fastify()
    await app.register(schedulerPlugin, { orm, autoStart: false })
    await t.rejects(async () => app.register(schedulerRoutes, options as never).ready(), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message }, what)
    await app.close()
  }

  const alone = Fastify()
  await t.rejects(async () => alone.register(schedulerRoutes, { prefix: '/scheduler', insecure: true }).ready(),
    { code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED', message: /dependency 'fastify-mikro-scheduler' of plugin 'fastify-mikro-scheduler-routes'/ },
    'needs the scheduler plugin first: Fastify checks the dependency its plugin metadata declares')
  await alone.close()

  const viaOption = Fastify()
  await t.rejects(async () => viaOption.register(schedulerPlugin, { orm, autoStart: false, routes: {} }).ready(), { message: /need a guard/ }, 'the routes option checks the same')
  await viaOption.close()
  const notObject = Fastify()
  await t.rejects(async () => notObject.register(schedulerPlugin, { orm, autoStart: false, routes: true as never }).ready(), { message: /option routes: must be an object/ })
  await notObject.close()

  for (const options of [{ prefix: '/scheduler', insecure: true }, { prefix: '/scheduler', onRequest: guard }, { prefix: '/scheduler', preHandler: [guard] }]) {
    const app = Fastify()
    await app.register(schedulerPlugin, { orm, autoStart: false })
    await app.register(schedulerRoutes, options)
    await app.ready()
    t.equal((await app.inject({ url: '/scheduler/tasks' })).statusCode, 200, `registers with ${Object.keys(options).join(', ')}`)
    await app.close()
  }
})

t.test('the guard runs on every route of the plugin, and only there', async (t) => {
  const url = await freshDatabase(t, 'routes_guard')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  const routes: Array<{ method: HTTPMethods, url: string }> = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD' && route.url.startsWith('/scheduler')) routes.push({ method, url: route.url })
  })
  await app.register(schedulerPlugin, { orm, lock: 'none', pollIntervalMs: 30_000, tasks: TASKS })
  await app.register(schedulerRoutes, {
    prefix: '/scheduler',
    onRequest: requireToken,
    preHandler: async (request) => {
      if (request.method !== 'GET' && request.headers['x-role'] !== 'admin') throw Object.assign(new Error('admins only'), { statusCode: 403, code: 'FORBIDDEN' })
    }
  })
  app.post('/host/echo', async (request) => ({ body: request.body as unknown }))
  await app.ready()

  // The admin page's shell and assets hold no data: they are served without the guard (the page
  // signs in for the API calls). Everything else is guarded.
  const pageRoutes = new Set(['/scheduler', '/scheduler/ui/:name'])
  t.same(routes.filter((route) => pageRoutes.has(route.url)).map((route) => route.url).sort(), ['/scheduler', '/scheduler/ui/:name'])
  t.equal((await app.inject({ url: '/scheduler/' })).statusCode, 200, 'the page shell loads without a token')
  const apiRoutes = routes.filter((route) => !pageRoutes.has(route.url))
  t.ok(apiRoutes.length >= 15, `found ${apiRoutes.length} API routes`)
  for (const route of apiRoutes) {
    const path = route.url.replace(':id', '1')
    const response = await app.inject({ method: route.method, url: path, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} })
    t.equal(response.statusCode, 401, `${route.method} ${route.url} without a token: 401`)
    const wrong = await app.inject({ method: route.method, url: path, headers: { authorization: 'Bearer nope' } })
    t.equal(wrong.statusCode, 401, `${route.method} ${route.url} with a wrong token: 401`)
  }
  const headers = { authorization: `Bearer ${TOKEN}` }
  t.equal((await app.inject({ url: '/scheduler/jobs', headers })).statusCode, 200, 'with the token: 200')
  const forbidden = await app.inject({ method: 'POST', url: '/scheduler/jobs', headers, payload: { id: 'a', task: 'echo', trigger: { type: 'interval', hours: 1 } } })
  t.equal(forbidden.statusCode, 403, 'the preHandler guard')
  t.same(forbidden.json(), { statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'admins only' }, "a guard's error gets the routes' error body")
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', headers: { ...headers, 'x-role': 'admin' }, payload: { id: 'a', task: 'echo', trigger: { type: 'interval', hours: 1 } } })).statusCode, 201)

  const host = await app.inject({ method: 'POST', url: '/host/echo', payload: { constructor: 'kept by the host parser', extra: 1 } })
  t.equal(host.statusCode, 200, "the host's own routes are not guarded")
  t.same(host.json(), { body: { constructor: 'kept by the host parser', extra: 1 } }, "and keep the host's JSON parser")
  t.equal((await app.inject({ url: '/scheduler/nothing-here', headers })).statusCode, 404)
})

t.test("the main plugin's routes option mounts the routes under /scheduler or a given prefix", async (t) => {
  const url = await freshDatabase(t, 'routes_option')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, autoStart: false, tasks: TASKS, routes: { onRequest: requireToken } })
  await app.ready()
  t.equal((await app.inject({ url: '/scheduler/tasks' })).statusCode, 401)
  t.equal((await app.inject({ url: '/scheduler/tasks', headers: { authorization: `Bearer ${TOKEN}` } })).json().total, 3)

  const other = Fastify()
  t.teardown(async () => other.close())
  await other.register(schedulerPlugin, { orm, autoStart: false, routes: { prefix: '/admin/jobs-api', insecure: true } })
  await other.ready()
  t.equal((await other.inject({ url: '/admin/jobs-api/status' })).statusCode, 200)
  t.equal((await other.inject({ url: '/scheduler/status' })).statusCode, 404)
})

t.test('@fastify/swagger sees the routes with their schemas', async (t) => {
  const url = await freshDatabase(t, 'routes_swagger')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(swagger, { openapi: { info: { title: 'host', version: '1.0.0' } } })
  await app.register(schedulerPlugin, { orm, autoStart: false })
  await app.register(schedulerRoutes, { prefix: '/scheduler', onRequest: requireToken })
  await app.ready()
  const spec = app.swagger() as { paths: Record<string, Record<string, any>> }

  t.same(Object.keys(spec.paths).sort(), [
    '/scheduler/audit', '/scheduler/executions', '/scheduler/executions/{id}', '/scheduler/fire-times', '/scheduler/jobs', '/scheduler/jobs/{id}',
    '/scheduler/jobs/{id}/audit', '/scheduler/jobs/{id}/executions', '/scheduler/jobs/{id}/fire-times', '/scheduler/jobs/{id}/pause', '/scheduler/jobs/{id}/resume',
    '/scheduler/jobs/{id}/run', '/scheduler/jobs/{id}/run-history', '/scheduler/stats/overview', '/scheduler/status', '/scheduler/tasks'
  ], 'every route is documented')
  t.same(Object.keys(spec.paths['/scheduler/jobs/{id}'] ?? {}).sort(), ['delete', 'get', 'patch'])

  const add = spec.paths['/scheduler/jobs']?.post
  const body = add.requestBody.content['application/json'].schema
  t.same(body.required, ['id', 'task', 'trigger'], 'the body schema of POST /jobs')
  t.equal(body.additionalProperties, false)
  t.match(body.properties, { id: { type: 'string', maxLength: 200 }, trigger: { type: 'object', properties: { type: { enum: ['cron', 'interval', 'date', 'and', 'or'] } } }, maxInstances: { type: 'integer', minimum: 1 } })
  t.match(add.responses['201'].content['application/json'].schema.properties, { description: {}, nextRunTime: {}, state: { enum: ['scheduled', 'paused', 'finished', 'flagged'] } })
  t.match(add.responses['409'].content['application/json'].schema, { properties: { statusCode: {}, code: {}, error: {}, message: {} } }, 'error responses are documented')

  const list = spec.paths['/scheduler/executions']?.get
  t.same(list.parameters.map((p: { in: string, name: string }) => `${p.in}:${p.name}`).sort(),
    ['query:from', 'query:jobId', 'query:limit', 'query:offset', 'query:status', 'query:to'], 'query parameters')
  t.match(list.responses['200'].content['application/json'].schema, { properties: { items: { type: 'array' }, total: {}, limit: {}, offset: {} } })
  t.match(spec.paths['/scheduler/executions/{id}']?.get.parameters, [{ in: 'path', name: 'id', required: true, schema: { type: 'integer' } }])
})
