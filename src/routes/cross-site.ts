/**
 * The cross-site check of the admin routes: a browser attaches the admin's cookies (and a cached
 * client certificate or HTTP Basic login) to every request it sends to the app, also when a page
 * on another site asks it to with a form or a `no-cors` fetch. With a cookie-based guard such a
 * request would pass the guard, so every state-changing request (any method but GET, HEAD and
 * OPTIONS) is checked before the guard runs and refused with 403 `FST_SCHEDULER_CROSS_SITE` when
 * a browser says it came from another origin:
 *
 * 1. `Origin` (or, without one, the origin of `Referer`) listed in `allowedOrigins`: allowed.
 * 2. `Sec-Fetch-Site` present (every current browser sends it): `same-origin` and `none` (typed
 *    by the user) are allowed; `same-site` (a sibling subdomain, or another port on the same host)
 *    and `cross-site` are refused.
 * 3. Otherwise `Origin` present: allowed when it is the request's own origin, refused otherwise
 *    (also `null`, an opaque origin such as a sandboxed frame or a `data:` page).
 * 4. Otherwise `Referer` present: the same test on its origin.
 * 5. None of these headers: not a browser (curl, another server), allowed.
 *
 * The rule follows Go's `net/http.CrossOriginProtection` (Go 1.25), which rests on Fetch Metadata
 * (https://w3c.github.io/webappsec-fetch-metadata/) and the OWASP CSRF cheat sheet's "verifying
 * origin with standard headers"; step 4 is OWASP's fallback for browsers that send no Origin.
 *
 * A request's own origin is `request.protocol` + `://` + `request.host`: the `Host` header, or
 * `X-Forwarded-Proto` / `X-Forwarded-Host` when the app trusts its proxy (Fastify's `trustProxy`).
 * Behind a TLS-terminating proxy without `trustProxy` the app sees `http://` while the browser
 * says `https://`; that matters only to browsers without `Sec-Fetch-Site`, and the refusal's
 * message says what to set.
 */
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { InvalidOptionsError } from '../errors.js'
import { CrossSiteRequestError } from './errors.js'

/** Methods that change nothing, so a browser may send them from anywhere (RFC 9110 §9.2.1 safe methods). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What the check reads from a request: a subset of `FastifyRequest`. */
export type RequestOrigin = Pick<FastifyRequest, 'method' | 'headers' | 'protocol' | 'host'>

/**
 * Where `request` came from when it must be refused, in words for the error message
 * (`'origin https://evil.example (Sec-Fetch-Site: cross-site)'`, `'an opaque origin (null)'`),
 * or null when it may go on.
 * Pure: `allowed` holds normalised origins (see {@link normalizeAllowedOrigins}).
 */
export function refusedOrigin (request: RequestOrigin, allowed: ReadonlySet<string>): string | null {
  if (SAFE_METHODS.has(request.method)) return null
  const origin = header(request, 'origin')
  const referer = header(request, 'referer')
  const named = origin !== undefined ? originOf(origin) : referer !== undefined ? originOf(referer) : undefined
  if (named !== null && named !== undefined && allowed.has(named)) return null
  const site = header(request, 'sec-fetch-site')
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return null
    return describe(origin, named) + ` (Sec-Fetch-Site: ${site.slice(0, 20)})`
  }
  if (named === undefined) return null
  if (named !== null && named === ownOrigin(request)) return null
  return describe(origin, named)
}

/** The request's own origin (`http://127.0.0.1:3000`), or null without a usable Host. */
export function ownOrigin (request: Pick<RequestOrigin, 'protocol' | 'host'>): string | null {
  if (typeof request.host !== 'string' || request.host === '') return null
  return originOf(`${request.protocol}://${request.host}`)
}

/**
 * The `onRequest` hook refusing cross-site state-changing requests (the rule above). Add it before
 * the host's guard so the guard never acts on a request another site made.
 * @throws CrossSiteRequestError (403 `FST_SCHEDULER_CROSS_SITE`) naming the origin and the request's own.
 */
export function refuseCrossSite (allowed: ReadonlySet<string>): onRequestHookHandler {
  return async (request) => {
    const origin = refusedOrigin(request, allowed)
    if (origin !== null) throw new CrossSiteRequestError(request.method, origin, ownOrigin(request) ?? 'unknown (no Host header)')
  }
}

/**
 * Checks the `allowedOrigins` option: origins whose pages may change jobs through the admin API
 * (`['https://ops.example.com']`); they are compared after normalisation (lower-case scheme and
 * host, default port dropped).
 * @throws InvalidOptionsError (`FST_SCHEDULER_INVALID_OPTIONS`) for anything but an array of
 *   `scheme://host[:port]` strings (no path, wildcard, `null` or credentials).
 */
export function normalizeAllowedOrigins (value: unknown): Set<string> {
  if (value === undefined) return new Set()
  if (!Array.isArray(value)) {
    throw new InvalidOptionsError('routes.allowedOrigins', `must be an array of origins like ['https://ops.example.com'], got ${JSON.stringify(value)}`)
  }
  return new Set(value.map((entry: unknown, index) => {
    const origin = typeof entry === 'string' && !entry.includes('*') ? originOf(entry) : null
    if (origin === null || !sameText(origin, entry as string)) {
      throw new InvalidOptionsError(`routes.allowedOrigins[${index}]`, `must be an origin: scheme, host and port only, like 'https://ops.example.com' or 'http://127.0.0.1:8080', got ${JSON.stringify(entry)}`)
    }
    return origin
  }))
}

/** `entry` names `origin` and nothing more (ignoring case, a trailing slash and a default port). */
function sameText (origin: string, entry: string): boolean {
  const text = entry.toLowerCase().replace(/\/$/, '')
  return text === origin || text === `${origin}:80` || text === `${origin}:443`
}

/** The serialised origin of an http(s) URL (`https://a.example`), or null for anything that has none (`null`, `data:`, garbage). */
function originOf (text: string): string | null {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null
  } catch {
    return null
  }
}

function describe (origin: string | undefined, named: string | null | undefined): string {
  if (named !== null && named !== undefined) return `origin ${named}`
  if (origin !== undefined) return `an opaque origin (${origin.slice(0, 60)})`
  return 'a page that did not name its origin'
}

function header (request: RequestOrigin, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}
