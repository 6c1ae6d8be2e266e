/**
 * schedulerUi without a browser: what it serves under the prefix, its security headers, caching,
 * the redirect to the trailing slash, and that the page's status labels match the library's.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import t from 'tap'
import { STATUS_LABELS } from '../../src/index.js'
import { assetsDirectory, schedulerUi, UI_SECURITY_HEADERS } from '../../src/ui/index.js'

t.test('serves the shell and its assets under the prefix, with a strict CSP', async (t) => {
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerUi, { prefix: '/scheduler', title: 'Jobs <of> "ACME"' })

  const redirect = await app.inject('/scheduler?x=1')
  t.equal(redirect.statusCode, 302)
  t.equal(redirect.headers.location, '/scheduler/?x=1', 'the prefix without a slash redirects, so relative URLs resolve under it')

  const page = await app.inject('/scheduler/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, '<title>Jobs &#60;of&#62; &#34;ACME&#34;</title>', 'the title option is escaped')
  t.notMatch(page.body, /<script>|<script [^>]*>[^<]/, 'no inline script')
  for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) t.equal(page.headers[name], value, name)
  t.match(page.headers['content-security-policy'], "script-src 'self'")

  const etag = page.headers.etag as string
  t.equal((await app.inject({ url: '/scheduler/', headers: { 'if-none-match': etag } })).statusCode, 304, 'ETag revalidation')

  for (const [name, type] of [['app.js', /^text\/javascript/], ['app.css', /^text\/css/], ['favicon.svg', /^image\/svg\+xml/]] as const) {
    const asset = await app.inject(`/scheduler/ui/${name}`)
    t.equal(asset.statusCode, 200, name)
    t.match(asset.headers['content-type'], type)
    t.equal(asset.headers['cache-control'], 'no-cache')
  }
  for (const missing of ['index.html', 'nope.js', '..%2Fpackage.json']) {
    const response = await app.inject(`/scheduler/ui/${missing}`)
    t.equal(response.statusCode, 404, missing)
    t.equal(response.json().code, 'FST_SCHEDULER_UI_ASSET_NOT_FOUND')
  }
})

t.test('a bad title is refused at registration', async (t) => {
  const app = Fastify()
  t.teardown(async () => app.close())
  await t.rejects(async () => { await app.register(schedulerUi, { prefix: '/s', title: 'x'.repeat(201) }); await app.ready() }, /option title/)
})

t.test('the assets ship with the package and the page knows every status label', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] }
  t.ok(pkg.files.includes('src/ui/assets'), 'package.json files lists the assets (tsc does not copy them to dist)')
  t.match(assetsDirectory(), /src\/ui\/assets\/$/)
  const script = readFileSync(`${assetsDirectory()}app.js`, 'utf8')
  for (const [status, label] of Object.entries(STATUS_LABELS)) t.match(script, `${status}: '${label}'`, status)
  t.notMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'no HTML sinks in the page script')
})
