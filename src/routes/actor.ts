/**
 * Who makes a change through the REST routes (and so the admin page), for the audit trail: the
 * routes plugin's `actor` hook, by default the guard's `request.user.id` (or a JWT's `sub`) when it set one, else
 * {@link API_ACTOR}. The answer is sanitised and bounded like every text the library writes.
 *
 * A hook that throws, rejects, or answers anything but a non-empty string never breaks the
 * request: the change is recorded as {@link API_ACTOR} and a warning goes to the request's log.
 */
import type { FastifyRequest } from 'fastify'
import { auditActor } from '../stores/audit.js'

/** The actor of REST changes when no user is known. */
export const API_ACTOR = 'api'

/** The routes' `actor` option: who the request acts for (a user id, a service name). May be async. */
export type ActorHook = (request: FastifyRequest) => string | Promise<string>

/**
 * The default hook: `request.user.id`, else `request.user.sub` (a JWT's subject, as `@fastify/jwt`
 * leaves the token's payload in `request.user`), a string or a finite number; else `'api'`.
 */
export function defaultActor (request: FastifyRequest): string {
  const user = (request as FastifyRequest & { user?: unknown }).user
  if (user === null || typeof user !== 'object') return API_ACTOR
  for (const key of ['id', 'sub'] as const) {
    const value = (user as Record<string, unknown>)[key]
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return String(value)
  }
  return API_ACTOR
}

/** The actor of `request` by `hook` (default {@link defaultActor}), sanitised; `'api'` (with a warning) when the hook fails. Never throws. */
export async function actorOf (request: FastifyRequest, hook: ActorHook | undefined): Promise<string> {
  let actor: unknown
  try {
    actor = await (hook ?? defaultActor)(request)
  } catch (error) {
    request.log.warn({ err: error }, `the routes' actor hook threw; the change is recorded as '${API_ACTOR}'`)
    return API_ACTOR
  }
  if (typeof actor !== 'string' || actor.trim() === '') {
    request.log.warn({ actor: typeof actor }, `the routes' actor hook did not answer a non-empty string; the change is recorded as '${API_ACTOR}'`)
    return API_ACTOR
  }
  return auditActor(actor, API_ACTOR)
}
