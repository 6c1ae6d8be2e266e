/**
 * schedulerUi without a browser: what it serves under the prefix, its security headers, caching,
 * the redirect to the trailing slash, and that the page's status labels match the library's.
 */
import { readdirSync, readFileSync } from 'node:fs'
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
  for (const missing of ['index.html', 'nope.js', '..%2Fpackage.json', '..%2F..%2Findex.ts', '%2E%2E%2Fapp.js', 'App.js', 'app.js%00.css', 'app.js.map']) {
    const response = await app.inject(`/scheduler/ui/${missing}`)
    t.equal(response.statusCode, 404, missing)
    t.equal(response.json().code, 'FST_SCHEDULER_UI_ASSET_NOT_FOUND')
  }
})

t.test('every module the page imports is served as JavaScript, with the same headers', async (t) => {
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerUi, { prefix: '/scheduler' })
  const shell = (await app.inject('/scheduler/')).body
  t.match(shell, '<script type="module" src="ui/app.js"></script>', 'the entry is loaded as a module')
  // Walk the import graph from the entry, as the browser does: every static import must resolve.
  const seen = new Set<string>()
  const pending = ['app.js']
  while (pending.length > 0) {
    const name = pending.pop() as string
    if (seen.has(name)) continue
    seen.add(name)
    const response = await app.inject(`/scheduler/ui/${name}`)
    t.equal(response.statusCode, 200, `${name} is served`)
    t.match(response.headers['content-type'], /^text\/javascript/, `${name} has a JavaScript type (module scripts need one)`)
    for (const [header, value] of Object.entries(UI_SECURITY_HEADERS)) t.equal(response.headers[header], value, `${name}: ${header}`)
    t.equal((await app.inject({ url: `/scheduler/ui/${name}`, headers: { 'if-none-match': response.headers.etag as string } })).statusCode, 304, `${name}: ETag revalidation`)
    for (const match of response.body.matchAll(/^import [^'"]*'\.\/([^']+)'/gm)) pending.push(match[1] as string)
    t.notMatch(response.body, /from '(?!\.\/)/, `${name} imports only sibling modules (no CDN, no bare specifier)`)
  }
  const onDisk = readdirSync(assetsDirectory()).filter((file) => file.endsWith('.js'))
  t.same([...seen].sort(), onDisk.sort(), 'the entry reaches every module in the assets directory, and nothing else is needed')
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
  const format = readFileSync(`${assetsDirectory()}format.js`, 'utf8')
  for (const [status, label] of Object.entries(STATUS_LABELS)) t.match(format, `${status}: '${label}'`, status)
  for (const name of readdirSync(assetsDirectory()).filter((file) => file.endsWith('.js'))) {
    t.notMatch(readFileSync(`${assetsDirectory()}${name}`, 'utf8'), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, `no HTML sinks in ${name}`)
  }
})
