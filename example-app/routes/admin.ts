/**
 * The scheduler's admin REST API (`schedulerRoutes`), mounted under `/scheduler` only when
 * `SCHEDULER_ADMIN_TOKEN` is set, and guarded by `Authorization: Bearer <token>`: every route
 * answers 401 without the right token. Without the variable the routes do not exist (404).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { schedulerRoutes } from 'fastify-mikro-scheduler'

export const ADMIN_PREFIX = '/scheduler'

/** An `onRequest` guard accepting `Authorization: Bearer <token>`, compared in constant time. */
export function bearerGuard (token: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token)
  return async (request, reply) => {
    const header = request.headers.authorization ?? ''
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
    if (given === '' || !timingSafeEqual(digest(given), expected)) {
      await reply.code(401).header('www-authenticate', 'Bearer realm="scheduler"').send({
        statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'send Authorization: Bearer <SCHEDULER_ADMIN_TOKEN>'
      })
    }
  }
}

export async function registerAdminRoutes (app: FastifyInstance, token: string): Promise<void> {
  await app.register(schedulerRoutes, { prefix: ADMIN_PREFIX, onRequest: bearerGuard(token) })
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
