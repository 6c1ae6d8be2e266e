/**
 * The admin web page: a small Fastify plugin that serves one static page and its assets
 * (`assets/index.html`, the ES modules `app.js` and one per view, `app.css`, the icon). The page is
 * a client of the admin REST routes (`src/routes`) under the same prefix: it has no data of its own
 * and no build step.
 *
 * - `GET <prefix>/` serves the HTML shell; `GET <prefix>` redirects to `<prefix>/` so the page's
 *   relative URLs (`ui/app.js`, `jobs`, `status`) resolve under the prefix.
 * - `GET <prefix>/ui/<asset>` serves the scripts, the style sheet and the icon: only the files of
 *   the assets directory whose names are {@link ASSET_NAME} (lower-case words, one known
 *   extension), read once at registration and answered from memory, so no request names a path.
 *
 * Authentication: the shell and assets hold no data, so they may be served without the host's
 * guard (register this plugin next to the routes plugin, not inside its guarded context) while
 * every API call the page makes stays guarded. When an API call answers 401 or 403 the page shows
 * a sign-in form; the token typed there is kept in `sessionStorage` (this tab only, gone when it
 * closes) and sent as `Authorization: Bearer <token>`. Cookie-based guards work too (the page's
 * requests are same-origin with credentials). The token is never put in a URL.
 *
 * Every response carries a strict Content-Security-Policy (`script-src 'self'`, no inline script,
 * no other origin), so even a missed escape could not run injected script; the page itself writes
 * user data with `textContent` only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply, FastifySchema } from 'fastify'

export interface SchedulerUiOptions {
  /** Text of the page's `<title>` and heading. Default `Scheduler`. */
  title?: string
}

interface Asset { body: Buffer, type: string, etag: string }

/** The security headers of every page response. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin'
}

/** Content types by extension; an asset with another extension is not served. */
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml'
}

/** Names of the files that are served: `jobs-list.js`, `app.css`, `favicon.svg` (no dots, slashes or upper case). */
export const ASSET_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*\.(?:html|js|css|svg)$/

/**
 * Where the assets are: beside this module when run from `src/` (tests, type stripping), and
 * `../../src/ui/assets` from the compiled `dist/ui/index.js` (the package ships `src/ui/assets`,
 * see package.json `files`; `tsc` does not copy non-TS files).
 */
export function assetsDirectory (): string {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../src/ui/assets/', import.meta.url)]
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate)
    if (existsSync(`${path}index.html`)) return path
  }
  throw new Error(`fastify-mikro-scheduler: the admin page's assets are missing (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`)
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function loadAssets (title: string): Map<string, Asset> {
  const directory = assetsDirectory()
  const assets = new Map<string, Asset>()
  const names = readdirSync(directory, { withFileTypes: true }).filter((entry) => entry.isFile() && ASSET_NAME.test(entry.name)).map((entry) => entry.name)
  for (const name of names) {
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] as string
    let body = readFileSync(`${directory}${name}`)
    if (name === 'index.html') body = Buffer.from(body.toString('utf8').replaceAll('{{title}}', escapeHtml(title)))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    assets.set(name, { body, type, etag })
  }
  return assets
}

/** Serves the admin page under the prefix it is registered with. Not wrapped in fastify-plugin: it is meant to be encapsulated. */
export const schedulerUi: FastifyPluginAsync<SchedulerUiOptions> = async (app, options) => {
  const title = options.title ?? 'Scheduler'
  if (typeof title !== 'string' || title.length > 200) throw new TypeError('schedulerUi option title: must be a string of at most 200 characters')
  const assets = loadAssets(title)

  const send = (reply: FastifyReply, ifNoneMatch: string | undefined, asset: Asset): FastifyReply => {
    void reply.headers(UI_SECURITY_HEADERS).header('cache-control', 'no-cache').header('etag', asset.etag)
    if (ifNoneMatch === asset.etag) return reply.code(304).send()
    return reply.type(asset.type).send(asset.body)
  }

  // Pages, not API: kept out of @fastify/swagger's spec (`hide` is its schema extension).
  const page = { schema: { hide: true } as FastifySchema }
  app.get('/', page, async (request, reply) => {
    const [path, query] = splitUrl(request.url)
    if (!path.endsWith('/')) return reply.redirect(`${path}/${query}`, 302)
    return send(reply, request.headers['if-none-match'], assets.get('index.html')!)
  })

  app.get<{ Params: { name: string } }>('/ui/:name', page, async (request, reply) => {
    const { name } = request.params
    const asset = name === 'index.html' || !ASSET_NAME.test(name) ? undefined : assets.get(name)
    if (asset === undefined) {
      return reply.code(404).send({ statusCode: 404, code: 'FST_SCHEDULER_UI_ASSET_NOT_FOUND', error: 'Not Found', message: 'no such asset' })
    }
    return send(reply, request.headers['if-none-match'], asset)
  })
}

function splitUrl (url: string): [string, string] {
  const at = url.indexOf('?')
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at)]
}

export default schedulerUi
