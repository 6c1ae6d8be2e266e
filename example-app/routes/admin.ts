/**
 * The scheduler's admin REST API (`schedulerRoutes`) and its page, mounted under `/scheduler` only
 * when `SCHEDULER_ADMIN_TOKEN` is set, and guarded by `Authorization: Bearer <token>`: every route
 * answers 401 without the right token. Without the variable the routes do not exist (404).
 *
 * Failed attempts are rate-limited with `@fastify/rate-limit`: a client (by IP) that sent
 * {@link FAILED_ATTEMPTS_MAX} wrong tokens within {@link FAILED_ATTEMPTS_WINDOW_MS} gets 429 with
 * `Retry-After` on every admin route, right token or not, until the window ends; requests without
 * any token (the page before sign-in) are not counted, and nothing else in the app is limited.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { schedulerRoutes } from 'fastify-mikro-scheduler'

export const ADMIN_PREFIX = '/scheduler'

/** Wrong tokens a client may send per window before it is refused. */
export const FAILED_ATTEMPTS_MAX = 10

/** The window of {@link FAILED_ATTEMPTS_MAX}, in milliseconds: 15 minutes. */
export const FAILED_ATTEMPTS_WINDOW_MS = 15 * 60_000

/** A `createRateLimit` limiter: counts a request, or with `{ increment: false }` only reports. */
type Limiter = ReturnType<FastifyInstance['createRateLimit']>

/**
 * An `onRequest` guard accepting `Authorization: Bearer <token>`, compared in constant time. With
 * `failures`, a client that has used up its failed attempts is refused with 429 before its token
 * is looked at (so a right guess after the limit is refused too), and each wrong token is counted.
 */
export function bearerGuard (token: string, failures?: Limiter): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token)
  return async (request, reply) => {
    if (failures !== undefined) {
      const spent = await failures(request, { increment: false })
      if (!spent.isAllowed && spent.remaining === 0) {
        await reply.code(429).header('retry-after', String(spent.ttlInSeconds)).send({
          statusCode: 429, code: 'TOO_MANY_FAILED_ATTEMPTS', error: 'Too Many Requests', message: `too many wrong tokens from this address; try again in ${spent.ttlInSeconds} s`
        })
        return
      }
    }
    const header = request.headers.authorization
    const given = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length) : ''
    if (given === '' || !timingSafeEqual(digest(given), expected)) {
      if (header !== undefined && failures !== undefined) await failures(request)
      await reply.code(401).header('www-authenticate', 'Bearer realm="scheduler"').send({
        statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'send Authorization: Bearer <SCHEDULER_ADMIN_TOKEN>'
      })
    }
  }
}

export async function registerAdminRoutes (app: FastifyInstance, token: string): Promise<void> {
  // A scope of its own, so the rate limiter's decorators and hooks stay with the admin routes.
  await app.register(async (scope) => {
    await scope.register(rateLimit, { global: false })
    const failures = scope.createRateLimit({ max: FAILED_ATTEMPTS_MAX, timeWindow: FAILED_ATTEMPTS_WINDOW_MS })
    await scope.register(schedulerRoutes, { prefix: ADMIN_PREFIX, onRequest: bearerGuard(token, failures) })
  })
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
