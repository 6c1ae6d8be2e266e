/**
 * Errors of the admin REST routes and how every error becomes a response.
 *
 * Every error response has the body `{ statusCode, code, error, message }` (`ErrorBody`):
 * - the library's errors (`FST_SCHEDULER_*`) keep their code and status (404 unknown job, 409 id
 *   conflict, 400 invalid trigger or job, ...);
 * - request validation is 400 `FST_ERR_VALIDATION` with a message naming the field;
 * - malformed JSON, forbidden keys, oversized bodies and bodies that are not JSON (415) are
 *   Fastify's `FST_ERR_CTP_*` codes;
 * - state-changing requests from another origin's page are 403 `FST_SCHEDULER_CROSS_SITE`;
 * - database connectivity faults are 503 `FST_SCHEDULER_DATABASE_UNAVAILABLE` (with `Retry-After`);
 * - anything else is 500 `FST_SCHEDULER_INTERNAL_ERROR`, logged, its details kept out of the body.
 */
import { STATUS_CODES } from 'node:http'
import createError from '@fastify/error'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

/** 503: the scheduler's database cannot be reached. Args: (what failed, e.g. `ECONNREFUSED`). */
export const DatabaseUnavailableError = createError<'FST_SCHEDULER_DATABASE_UNAVAILABLE', 503, [string]>(
  'FST_SCHEDULER_DATABASE_UNAVAILABLE',
  "the scheduler's database is unreachable (%s); nothing was changed, try again shortly",
  503
)

/** 400: the body is not JSON, or holds a key that could pollute prototypes. Args: (what is wrong). Fastify's code for the same fault. */
export const InvalidJsonBodyError = createError<'FST_ERR_CTP_INVALID_JSON_BODY', 400, [string]>(
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'request body: %s',
  400
)

/** 400: a request that passes its schema but is still wrong (`from` after `to`). Args: (field: problem). Same code as schema validation. */
export const InvalidRequestError = createError<'FST_ERR_VALIDATION', 400, [string]>(
  'FST_ERR_VALIDATION',
  '%s',
  400
)

/** 404: no admin route has this method and path. Args: (method, URL path). */
export const RouteNotFoundError = createError<'FST_SCHEDULER_ROUTE_NOT_FOUND', 404, [string, string]>(
  'FST_SCHEDULER_ROUTE_NOT_FOUND',
  'no admin route %s %s; a job id in a URL must be percent-encoded, so encode it: / is %%2F (encodeURIComponent)',
  404
)

/**
 * 403: a state-changing request a browser sent on behalf of a page from another origin (a form,
 * a `no-cors` fetch): it would act with the admin's cookies, so it is refused before the guard.
 * Args: (method, where it came from, the request's own origin). See `cross-site.ts`.
 */
export const CrossSiteRequestError = createError<'FST_SCHEDULER_CROSS_SITE', 403, [string, string, string]>(
  'FST_SCHEDULER_CROSS_SITE',
  'cross-site request refused: a %s from %s may not change jobs; the admin API takes changes only from its own origin (%s) ' +
    'or an origin listed in the routes option allowedOrigins (behind a proxy, set Fastify\'s trustProxy so that its own origin is the public one)',
  403
)

/** 415: a body that is not JSON (text, a form, multipart). Args: (its content type). Fastify's code for the same fault. */
export const UnsupportedMediaTypeError = createError<'FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, [string]>(
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'unsupported media type %s: the admin API takes JSON bodies only; send content-type: application/json (an action without input takes no body, or {})',
  415
)

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5

/** The body of every error response. */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
}

/** Socket errors and SQLSTATEs that mean "the database is not there" rather than "the request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300' // too_many_connections
])

const UNAVAILABLE_MESSAGES = /Connection terminated|Connection ended unexpectedly|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|the database system is (starting up|shutting down)/i

/**
 * What made `error` a database connectivity fault (a code such as `ECONNREFUSED` or `57P01`, or a
 * short reason), or null when it is not one. Looks through `cause` chains and `AggregateError`s
 * (Node reports a refused connection to every address of a host as one). SQLSTATE class 08
 * (connection exception) counts, as do pg's "Connection terminated" messages and MikroORM's
 * `ConnectionException`.
 */
export function databaseUnavailableReason (error: unknown, depth = 0): string | null {
  if (error === null || typeof error !== 'object' || depth > 5) return null
  const { code, name, message } = error as { code?: unknown, name?: unknown, message?: unknown }
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return code
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return message.split('\n')[0]!.slice(0, 200)
  if (name === 'ConnectionException') return 'connection failed'
  for (const inner of [(error as { cause?: unknown }).cause, ...((error as { errors?: unknown }).errors instanceof Array ? (error as { errors: unknown[] }).errors : [])]) {
    const reason = databaseUnavailableReason(inner, depth + 1)
    if (reason !== null) return reason
  }
  return null
}

/** The response for `error`: status and body. Pure, so the mapping is testable without a server. */
export function errorResponse (error: FastifyError): ErrorBody {
  const reason = databaseUnavailableReason(error)
  if (reason !== null) return body(new DatabaseUnavailableError(reason))
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if (status >= 500 && !isSchedulerError(error)) {
    return { statusCode: 500, code: 'FST_SCHEDULER_INTERNAL_ERROR', error: STATUS_CODES[500]!, message: 'internal error; the server log has the details' }
  }
  return body(error, status)
}

/** Fastify error handler of the routes plugin: maps with `errorResponse`, logs 5xx, adds `Retry-After` to 503. */
export async function handleRouteError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<ErrorBody> {
  const response = errorResponse(error)
  if (response.statusCode === 503) {
    request.log.warn({ err: error }, 'scheduler admin route: database unavailable')
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS))
  } else if (response.statusCode >= 500) {
    request.log.error({ err: error }, 'scheduler admin route failed')
  }
  return reply.code(response.statusCode).send(response)
}

/** Not-found handler of the routes' prefix: the error body, with a hint about encoding ids. */
export function handleRouteNotFound (request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send(body(new RouteNotFoundError(request.method, request.url.split('?')[0] ?? request.url)))
}

function isSchedulerError (error: FastifyError): boolean {
  return typeof error.code === 'string' && error.code.startsWith('FST_SCHEDULER_')
}

function body (error: { statusCode?: number, code?: string, message: string }, status = error.statusCode ?? 500): ErrorBody {
  return {
    statusCode: status,
    code: typeof error.code === 'string' && error.code !== '' ? error.code : `HTTP_${status}`,
    error: STATUS_CODES[status] ?? 'Error',
    message: error.message
  }
}
