/**
 * What a request body of the admin routes may be: JSON (`application/json`, read by
 * `parseJsonBody`) and nothing else. A page on another site can make a browser send `text/plain`,
 * urlencoded and multipart bodies without asking the server first (CORS "simple requests"), but
 * never `application/json`; so refusing every other media type with 415 keeps those requests out
 * even where the cross-site check lets one through, and it tells a client what to send.
 *
 * Actions without input (`POST /jobs/:id/pause|resume|run`, `DELETE /jobs/:id`) take no body, or
 * `{}` for clients that always send one; anything else is a 400 naming the route.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { InvalidRequestError, UnsupportedMediaTypeError } from './errors.js'

/** Methods whose routes may change state (everything a browser sends with a body). */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * The catch-all content-type parser (`addContentTypeParser('*', …)`): any body whose media type
 * has no parser of its own (everything but JSON) is refused without being read.
 * Requests to unknown paths pass on to the 404 handler.
 * @throws UnsupportedMediaTypeError (415 `FST_ERR_CTP_INVALID_MEDIA_TYPE`) naming the content type.
 */
export function refuseOtherMediaTypes (request: FastifyRequest, _payload: unknown, done: (error: Error | null, body?: unknown) => void): void {
  if (request.is404) return done(null)
  const type = request.headers['content-type']
  done(new UnsupportedMediaTypeError(type === undefined ? '(none given, but a body was sent)' : `'${type.slice(0, 100)}'`))
}

/**
 * An `onRoute` hook: a state-changing route without a body schema (an action without input) gets a
 * `preValidation` check that its body is absent or `{}`.
 */
export function bodylessActions (route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  if (!methods.some((method) => STATE_CHANGING.has(method)) || route.schema?.body !== undefined) return
  const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation]
  route.preValidation = [refuseBody, ...existing]
}

async function refuseBody (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const body = request.body
  if (body === undefined) return
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0) return
  throw new InvalidRequestError(`body: ${request.method} ${request.routeOptions.url ?? request.url} takes no input; send no body, or {}`)
}
