/**
 * Cross-site requests against the admin routes, in Chromium, with a cookie-based guard: the browser
 * holds the admin's session cookie, and a page served from a second origin (another port on
 * 127.0.0.1, so the browser calls it same-site and sends even a `SameSite=Strict` cookie) tries
 * to run, pause, resume and delete jobs with the requests a page can send without a preflight:
 * an auto-submitted `text/plain` form (the body can be made to look like JSON), an urlencoded
 * form POST, and `fetch(…, { mode: 'no-cors', credentials: 'include' })` with and without a body.
 * Every attempt must reach the server with the cookie (the server's own request ledger shows it)
 * and be refused, and the tables must show nothing queued, paused, resumed or removed. The admin
 * page itself, in the same browser, must still pause, resume, run and delete.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import { HAVE_CHROMIUM, PREFIX, SKIP_REASON, launchBrowser, startUiApp } from './fixtures/harness.js'
import { addSignInRoute, requireSessionCookie, SESSION, sessionOf } from './fixtures/cookie-guard.js'
import { waitUntil } from '../helpers/wait.js'

/** One request as the admin app saw it. */
interface Seen {
  method: string
  url: string
  status: number
  site: string | undefined
  origin: string | undefined
  withSession: boolean
  code: string | undefined
}

/** The second origin: pages that submit a form to `to` as soon as they load. */
async function startAttacker (t: { teardown(fn: () => unknown): void }): Promise<string> {
  const evil = Fastify({ logger: false })
  t.teardown(async () => evil.close())
  evil.get('/blank', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>blank</title><p>another site</p>'))
  evil.get<{ Querystring: { to: string, enctype: string, fields: string } }>('/form', async (request, reply) => {
    const { to, enctype, fields } = request.query
    const inputs = Object.entries(JSON.parse(fields) as Record<string, string>)
      .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`).join('')
    return reply.type('text/html').send(`<!doctype html><title>prize</title><form method="POST" action="${escape(to)}" enctype="${escape(enctype)}">${inputs}</form>` +
      '<script>document.forms[0].submit()</script>')
  })
  await evil.listen({ host: '127.0.0.1', port: 0 })
  const address = evil.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

function escape (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

if (!HAVE_CHROMIUM) t.test('cross-site requests in Chromium', { skip: SKIP_REASON }, async () => {})
else {
  t.test('a page on another origin cannot run, pause, resume or delete jobs; the admin page still can', async (t) => {
    const ran: string[] = []
    const seen: Seen[] = []
    const { app, origin, pageUrl } = await startUiApp(t, 'ui_cross_site', {
      tasks: { noop: async (ctx) => { ran.push(ctx.job.id) } },
      jobs: [
        { id: 'active', task: 'noop', trigger: { type: 'cron', expression: '0 0 1 1 *' } },
        { id: 'sleeping', task: 'noop', trigger: { type: 'cron', expression: '0 0 1 1 *' }, paused: true }
      ],
      guard: requireSessionCookie,
      configure: (app: FastifyInstance) => {
        addSignInRoute(app)
        app.addHook('onSend', async (request, reply, payload) => {
          let code: string | undefined
          if (typeof payload === 'string' && payload.startsWith('{')) code = (JSON.parse(payload) as { code?: string }).code
          seen.push({
            method: request.method,
            url: request.url,
            status: reply.statusCode,
            site: request.headers['sec-fetch-site'] as string | undefined,
            origin: request.headers.origin,
            withSession: sessionOf(request.headers.cookie) === SESSION,
            code
          })
          return payload
        })
      }
    })
    const evil = await startAttacker(t)
    const context = await launchBrowser(t)
    const page = context.pages()[0] ?? await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(String(error)))

    // The admin signs in to the app: the browser now holds the session cookie.
    await page.goto(`${origin}/sign-in`)
    t.equal((await context.cookies(origin)).length, 1, 'the session cookie is set')

    const api = `${origin}${PREFIX}`
    const arrived = async (method: string, path: string): Promise<Seen> =>
      await waitUntil(`${method} ${path} to reach the app`, () => seen.find((request) => request.method === method && request.url === path))

    // Forms: the browser navigates to the admin route with the cookie.
    const forms = [
      { what: 'text/plain form: run', path: `${PREFIX}/jobs/active/run`, enctype: 'text/plain', fields: { '{"wait":"': '0"}' } },
      { what: 'text/plain form: pause', path: `${PREFIX}/jobs/active/pause`, enctype: 'text/plain', fields: { '{"x":"': '"}' } },
      { what: 'text/plain form: resume', path: `${PREFIX}/jobs/sleeping/resume`, enctype: 'text/plain', fields: { '{"x":"': '"}' } },
      { what: 'urlencoded form: run', path: `${PREFIX}/jobs/active/run?wait=1`, enctype: 'application/x-www-form-urlencoded', fields: { go: '1' } },
      { what: 'urlencoded form: pause', path: `${PREFIX}/jobs/active/pause?form=1`, enctype: 'application/x-www-form-urlencoded', fields: { go: '1' } },
      { what: 'urlencoded form: resume', path: `${PREFIX}/jobs/sleeping/resume?form=1`, enctype: 'application/x-www-form-urlencoded', fields: { go: '1' } },
      { what: 'urlencoded form: delete by method override', path: `${PREFIX}/jobs/active?_method=DELETE`, enctype: 'application/x-www-form-urlencoded', fields: { _method: 'DELETE' } },
      { what: 'multipart form: pause', path: `${PREFIX}/jobs/active/pause?multipart=1`, enctype: 'multipart/form-data', fields: { go: '1' } }
    ]
    for (const form of forms) {
      const query = new URLSearchParams({ to: `${origin}${form.path}`, enctype: form.enctype, fields: JSON.stringify(form.fields) })
      await page.goto(`${evil}/form?${query.toString()}`)
      const request = await arrived('POST', form.path)
      t.equal(request.withSession, true, `${form.what}: the browser sent the session cookie`)
      t.equal(request.site, 'same-site', `${form.what}: Sec-Fetch-Site is same-site (another port on the same host)`)
      t.equal(request.origin, evil, `${form.what}: Origin names the other page`)
      t.equal(request.status, 403, `${form.what}: refused`)
      t.equal(request.code, 'FST_SCHEDULER_CROSS_SITE', `${form.what}: FST_SCHEDULER_CROSS_SITE`)
    }

    // fetch in no-cors mode with credentials: the response is opaque, but the request is sent.
    await page.goto(`${evil}/blank`)
    const fetches = [
      { what: 'no-cors fetch, no body: run', path: `${PREFIX}/jobs/active/run?fetch=1`, body: null },
      { what: 'no-cors fetch, JSON-looking text: run', path: `${PREFIX}/jobs/active/run?fetch=2`, body: '{}' },
      { what: 'no-cors fetch, no body: pause', path: `${PREFIX}/jobs/active/pause?fetch=1`, body: null },
      { what: 'no-cors fetch, no body: resume', path: `${PREFIX}/jobs/sleeping/resume?fetch=1`, body: null }
    ]
    for (const attempt of fetches) {
      const type = await page.evaluate(async ({ url, body }) => (await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', body })).type, { url: `${origin}${attempt.path}`, body: attempt.body })
      t.equal(type, 'opaque', `${attempt.what}: the browser sent it (opaque response)`)
      const request = await arrived('POST', attempt.path)
      t.equal(request.withSession, true, `${attempt.what}: with the session cookie`)
      t.equal(request.status, 403, `${attempt.what}: refused`)
      t.equal(request.code, 'FST_SCHEDULER_CROSS_SITE', `${attempt.what}: FST_SCHEDULER_CROSS_SITE`)
    }

    // DELETE: no-cors allows only GET/HEAD/POST, and a cors DELETE needs a preflight the routes do not grant.
    const noCorsDelete = await page.evaluate(async (url) => {
      try { await fetch(url, { method: 'DELETE', mode: 'no-cors', credentials: 'include' }); return 'sent' } catch (error) { return String(error) }
    }, `${api}/jobs/active`)
    t.match(noCorsDelete, /TypeError/, 'a no-cors DELETE is refused by the browser itself')
    const corsDelete = await page.evaluate(async (url) => {
      try { await fetch(url, { method: 'DELETE', credentials: 'include' }); return 'sent' } catch (error) { return String(error) }
    }, `${api}/jobs/active?cors=1`)
    t.match(corsDelete, /TypeError/, 'a cors DELETE fails')
    const preflight = await arrived('OPTIONS', `${PREFIX}/jobs/active?cors=1`)
    t.ok(preflight.status >= 400, `its preflight got ${preflight.status}`)
    t.equal(seen.filter((request) => request.method === 'DELETE').length, 0, 'no DELETE reached the app')

    // The tables: nothing queued, paused, resumed or removed; no handler ran.
    t.equal(await app.scheduler.countExecutions({ jobId: 'active' }), 0, 'no execution queued for active')
    t.equal(await app.scheduler.countExecutions({ jobId: 'sleeping' }), 0, 'no execution queued for sleeping')
    t.match(await app.scheduler.getJob('active'), { id: 'active', paused: false }, 'active: still there, not paused')
    t.match(await app.scheduler.getJob('sleeping'), { id: 'sleeping', paused: true }, 'sleeping: still paused')
    t.same(ran, [], 'no handler ran')

    // The admin page, in the same browser and with the same cookie, still works.
    const before = seen.length
    await page.goto(pageUrl)
    const active = page.locator('#jobs-body tr[data-job-id="active"]')
    const sleeping = page.locator('#jobs-body tr[data-job-id="sleeping"]')
    await active.waitFor()
    t.equal(await page.isVisible('#view-login'), false, 'the cookie signs the page in: no token asked')
    await active.getByRole('button', { name: 'Pause active' }).click()
    await active.locator('.pill.paused').waitFor()
    t.equal((await app.scheduler.getJob('active'))?.paused, true, 'the page paused it')
    await sleeping.getByRole('button', { name: 'Resume sleeping' }).click()
    await sleeping.locator('.pill.active').waitFor()
    t.equal((await app.scheduler.getJob('sleeping'))?.paused, false, 'the page resumed it')
    await sleeping.getByRole('button', { name: 'Run sleeping now' }).click()
    await page.waitForSelector('#notice .badge.status-success', { timeout: 15_000 })
    t.same(ran, ['sleeping'], 'the page ran it, once')
    await active.getByRole('button', { name: 'Delete active' }).click()
    await page.waitForSelector('#confirm[open]')
    await page.locator('#confirm-ok').click()
    await active.waitFor({ state: 'detached' })
    t.equal(await app.scheduler.getJob('active'), null, 'the page deleted it')

    const pageChanges = seen.slice(before).filter((request) => request.method !== 'GET')
    // The page's own POSTs and DELETEs name its origin (its no-referrer policy hides only the path).
    t.same(pageChanges.map((request) => [request.method, request.url.replace(/\?.*/, ''), request.status, request.site, request.origin]), [
      ['POST', `${PREFIX}/jobs/active/pause`, 200, 'same-origin', origin],
      ['POST', `${PREFIX}/jobs/sleeping/resume`, 200, 'same-origin', origin],
      ['POST', `${PREFIX}/jobs/sleeping/run`, 202, 'same-origin', origin],
      ['DELETE', `${PREFIX}/jobs/active`, 204, 'same-origin', origin]
    ], 'the page\'s own changes: same-origin, accepted')
    const pageReads = seen.slice(before).filter((request) => request.method === 'GET' && request.url.startsWith(`${PREFIX}/jobs?`))
    t.ok(pageReads.length > 0, 'the page read the job list')
    t.ok(pageReads.every((request) => request.status === 200 && request.withSession), 'with the cookie, answered 200')
    t.same(problems, [], 'no script errors on the page')
  })
}
