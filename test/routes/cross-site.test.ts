/**
 * What the admin API still accepts with the cross-site check and the JSON-only rule in place, and
 * the `allowedOrigins` option: requests without browser headers (curl, servers), the admin page's
 * own same-origin requests, origins
 * listed in `allowedOrigins`, the own origin behind a trusted proxy, reads from anywhere, and
 * `{}` for actions without input. Every API response is `cache-control: no-store`. The refusals
 * themselves are in the bad input catalogue (`bad-input.test.ts`) and, in a browser, in
 * `test/ui/cross-site.test.ts`.
 */
import type { FastifyReply, FastifyRequest, InjectOptions } from 'fastify'
import t from 'tap'
import { normalizeAllowedOrigins, ownOrigin, refusedOrigin } from '../../src/routes/cross-site.js'
import { checkRoutesOptions } from '../../src/routes/plugin.js'
import { cron, routesApp } from './fixtures/app.js'

const pause = (headers: Record<string, string>, id = 'job'): InjectOptions => ({ method: 'POST', url: `/scheduler/jobs/${id}/pause`, headers })

t.test('who may change jobs: no browser headers, the own origin, listed origins', async (t) => {
  const { app } = await routesApp(t, 'routes_cross_site', { routes: { allowedOrigins: ['https://OPS.example.com:443/', 'http://127.0.0.1:8080'] } })
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'job', task: 'echo', trigger: cron('0 0 1 1 *') } })).statusCode, 201, 'curl: no Origin, no Sec-Fetch-Site')

  const allowed: Array<[string, Record<string, string>]> = [
    ['curl-like, no headers', {}],
    ["the admin page's own fetch", { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' }],
    ['same-origin with an opaque Origin (Sec-Fetch-Site decides)', { 'sec-fetch-site': 'same-origin', origin: 'null' }],
    ['typed by the user (Sec-Fetch-Site: none)', { 'sec-fetch-site': 'none' }],
    ['own Origin, no Sec-Fetch-Site', { origin: 'http://localhost' }],
    ['own Origin with the default port spelled out', { origin: 'http://LOCALHOST:80' }],
    ['own Referer, no Origin', { referer: 'http://localhost/scheduler/' }],
    ['a listed origin on a sibling host', { 'sec-fetch-site': 'same-site', origin: 'https://ops.example.com' }],
    ['a listed origin on another site', { 'sec-fetch-site': 'cross-site', origin: 'https://ops.example.com' }],
    ['a listed origin without Sec-Fetch-Site', { origin: 'http://127.0.0.1:8080' }]
  ]
  for (const [what, headers] of allowed) {
    const response = await app.inject(pause(headers))
    t.equal(response.statusCode, 200, `${what}: 200`, { body: response.body })
    t.equal(response.headers['cache-control'], 'no-store', `${what}: no-store`)
  }

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['an unlisted port of a listed host', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:8081' }, /origin http:\/\/127\.0\.0\.1:8081/],
    ['a listed origin over the other scheme', { origin: 'http://ops.example.com' }, /origin http:\/\/ops\.example\.com/],
    ['a listed origin only in the Referer, but Sec-Fetch-Site cross-site and another Origin', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', referer: 'https://ops.example.com/' }, /evil\.example/]
  ]
  for (const [what, headers, message] of refused) {
    const response = await app.inject(pause(headers))
    t.equal(response.statusCode, 403, `${what}: 403`)
    t.match(response.json(), { code: 'FST_SCHEDULER_CROSS_SITE', message }, what)
  }
  t.equal((await app.scheduler.getJob('job'))?.paused, true)

  // Reads change nothing: a cross-site GET is answered (the browser keeps the body from the other page).
  const read = await app.inject({ url: '/scheduler/jobs/job', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
  t.equal(read.statusCode, 200, 'a cross-site GET is answered')
  t.equal(read.headers['cache-control'], 'no-store', 'JSON of the API: no-store')

  // Actions without input take no body, or {} as JSON.
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs/job/resume', payload: {} })).statusCode, 200, 'resume with {}')
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs/job/pause', payload: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } })).statusCode, 200, 'pause with {} and a charset')
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/jobs/job/pause', headers: { 'content-type': 'application/json' } })).statusCode, 200, 'a JSON content type without a body')
  const removed = await app.inject({ method: 'DELETE', url: '/scheduler/jobs/job', headers: { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' } })
  t.equal(removed.statusCode, 204, 'delete from the own origin')
  t.equal(removed.headers['cache-control'], 'no-store')
  const missing = await app.inject({ url: '/scheduler/nope' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['cache-control'], 'no-store', 'errors are not cached either')
  const page = await app.inject({ url: '/scheduler/' })
  t.equal(page.headers['cache-control'], 'no-cache', 'the page shell keeps its own caching (no data in it)')
})

t.test('behind a proxy: the own origin is the public one only with trustProxy', async (t) => {
  const behindProxy = { host: 'app.internal:3000', 'x-forwarded-host': 'admin.example.com', 'x-forwarded-proto': 'https', origin: 'https://admin.example.com' }
  const trusted = await routesApp(t, 'routes_cross_site_proxy', { fastify: { trustProxy: true } })
  t.equal((await trusted.app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'job', task: 'echo', trigger: cron('0 0 1 1 *') } })).statusCode, 201)
  t.equal((await trusted.app.inject(pause(behindProxy))).statusCode, 200, 'trustProxy: X-Forwarded-Proto/Host make the own origin https://admin.example.com')

  const untrusted = await routesApp(t, 'routes_cross_site_no_proxy')
  const refused = await untrusted.app.inject(pause(behindProxy))
  t.equal(refused.statusCode, 403, 'without trustProxy the own origin is http://app.internal:3000')
  t.match(refused.json().message, /from origin https:\/\/admin\.example\.com may not change jobs; .*own origin \(http:\/\/app\.internal:3000\).*trustProxy/, 'the message names both origins and trustProxy')
})

t.test('the check runs before the host guard, and the guard\'s own answers are not cached', async (t) => {
  const guarded: string[] = []
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    guarded.push(request.url)
    if (request.headers.cookie !== 'session=ok') await reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'sign in' })
  }
  const { app } = await routesApp(t, 'routes_cross_site_guard', { routes: { onRequest: guard, insecure: false } })
  const refused = await app.inject(pause({ cookie: 'session=ok', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, 'x'))
  t.equal(refused.statusCode, 403)
  t.same(guarded, [], 'the guard never saw the cross-site request')
  const unauthorised = await app.inject({ url: '/scheduler/jobs' })
  t.equal(unauthorised.statusCode, 401)
  t.equal(unauthorised.headers['cache-control'], 'no-store', "the guard's 401 is not cached")
  t.equal((await app.inject({ url: '/scheduler/jobs', headers: { cookie: 'session=ok' } })).headers['cache-control'], 'no-store')
})

t.test('allowedOrigins: only origins, normalised; anything else is refused at registration', async (t) => {
  t.same([...normalizeAllowedOrigins(['HTTPS://Ops.Example.com:443/', 'http://127.0.0.1:8080', 'http://[::1]:80'])], ['https://ops.example.com', 'http://127.0.0.1:8080', 'http://[::1]'])
  t.same([...normalizeAllowedOrigins(undefined)], [])
  const bad: Array<[unknown, RegExp]> = [
    ['https://ops.example.com', /routes\.allowedOrigins: must be an array of origins/],
    [['https://ops.example.com/admin'], /routes\.allowedOrigins\[0\]: must be an origin: scheme, host and port only.*"https:\/\/ops\.example\.com\/admin"/],
    [['https://*.example.com'], /allowedOrigins\[0\]/],
    [['*'], /allowedOrigins\[0\]/],
    [['null'], /allowedOrigins\[0\]/],
    [['ops.example.com'], /allowedOrigins\[0\]/],
    [['ftp://files.example.com'], /allowedOrigins\[0\]/],
    [['https://user:pw@ops.example.com'], /allowedOrigins\[0\]/],
    [['https://ops.example.com?x=1'], /allowedOrigins\[0\]/],
    [['https://ok.example', 42], /allowedOrigins\[1\].*got 42/]
  ]
  for (const [value, message] of bad) {
    t.throws(() => checkRoutesOptions({ prefix: '/scheduler', insecure: true, allowedOrigins: value as string[] }), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message }, JSON.stringify(value))
  }
  // And through registration, with the scheduler plugin in place.
  await t.rejects(routesApp(t, 'routes_cross_site_options', { routes: { allowedOrigins: ['https://ops.example.com/admin'] } }),
    { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /routes\.allowedOrigins\[0\]/ }, 'registering with a bad origin fails')
})

t.test('the rule as a pure function', async (t) => {
  const request = (method: string, headers: Record<string, string>, host = 'localhost:3000', protocol: 'http' | 'https' = 'http') => ({ method, headers, host, protocol })
  const none = new Set<string>()
  t.equal(refusedOrigin(request('GET', { 'sec-fetch-site': 'cross-site', origin: 'https://e.example' }), none), null, 'GET is never refused')
  t.equal(refusedOrigin(request('OPTIONS', { 'sec-fetch-site': 'cross-site' }), none), null, 'nor OPTIONS (a preflight)')
  t.equal(refusedOrigin(request('PUT', { 'sec-fetch-site': 'cross-site', origin: 'https://e.example' }), none), 'origin https://e.example (Sec-Fetch-Site: cross-site)')
  t.equal(refusedOrigin(request('POST', { origin: 'data:' }), none), 'an opaque origin (data:)')
  t.equal(refusedOrigin(request('POST', { referer: 'not a url' }), none), 'a page that did not name its origin', 'an unreadable Referer is not the own origin')
  t.equal(refusedOrigin(request('POST', { origin: 'https://localhost:3000' }, 'localhost:3000', 'https'), none), null, 'https own origin')
  t.equal(refusedOrigin(request('POST', { origin: 'http://localhost:3000' }, ''), none), 'origin http://localhost:3000', 'no Host: nothing to compare with')
  t.equal(ownOrigin({ protocol: 'https', host: 'Admin.Example.com:443' }), 'https://admin.example.com')
  t.equal(ownOrigin({ protocol: 'http', host: '' }), null)
})
