/**
 * `schedulerRoutes`: the admin REST API of `app.scheduler`, an encapsulated plugin mounted under a
 * prefix and guarded by the host's own hooks:
 *
 * ```ts
 * await app.register(schedulerPlugin, { orm })
 * await app.register(schedulerRoutes, { prefix: '/scheduler', onRequest: requireAdmin })
 * // or: app.register(schedulerPlugin, { orm, routes: { prefix: '/scheduler', onRequest: requireAdmin } })
 * ```
 *
 * Routes (see `jobs.ts`, `executions.ts`, `status.ts`): `GET|POST /jobs`, `GET|PATCH|DELETE /jobs/:id`,
 * `POST /jobs/:id/pause|resume|run`, `GET /jobs/:id/fire-times`, `POST /fire-times`,
 * `GET /jobs/:id/executions`, `GET /executions`, `GET /executions/:id`, `GET /status`, `GET /tasks`,
 * `GET /jobs/:id/run-history`, `GET /stats/overview` (`stats.ts`, the admin page's charts),
 * `GET /jobs/:id/audit`, `GET /audit` (`audit.ts`, the audit trail; changes record the `actor` hook's answer).
 * Errors: `{ statusCode, code, error, message }` (`errors.ts`).
 *
 * Everything set here (validator, JSON parser, error handler, guard hooks) applies to these routes
 * only; the host's other routes are untouched.
 *
 * Whatever the guard, state-changing requests a browser sends for a page of another origin are
 * refused first (403, `cross-site.ts`), bodies must be JSON (415, `media-type.ts`) and responses
 * are not cached (`no-store.ts`).
 */
import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler, preHandlerHookHandler } from 'fastify'
import { InvalidOptionsError } from '../errors.js'
import fp from 'fastify-plugin'
import { kScheduler, schedulerOf } from '../decorator.js'
import type { ActorHook } from './actor.js'
import { auditRoutes } from './audit.js'
import { addOpenApiMetadata, type SchedulerOpenApiOptions } from './openapi.js'
import { handleRouteError, handleRouteNotFound } from './errors.js'
import { executionRoutes } from './executions.js'
import { jobRoutes } from './jobs.js'
import { statsRoutes } from './stats.js'
import { statusRoutes } from './status.js'
import { normalizeAllowedOrigins, refuseCrossSite } from './cross-site.js'
import { bodylessActions, refuseOtherMediaTypes } from './media-type.js'
import { noStore } from './no-store.js'
import { schedulerUi } from '../ui/index.js'
import { formatValidationErrors, parseJsonBody, validatorCompiler } from './validation.js'

/** Default `bodyLimit` of the routes: 64 KiB, plenty for a job definition. */
export const DEFAULT_ROUTES_BODY_LIMIT = 64 * 1024

/** Prefix used by the main plugin's `routes` option when none is given. */
export const DEFAULT_ROUTES_PREFIX = '/scheduler'

export interface SchedulerRoutesOptions {
  /** URL prefix of the routes, e.g. `'/scheduler'` (Fastify's register option). Required with `app.register`; the main plugin's `routes` option defaults it to `'/scheduler'`. */
  prefix?: string
  /** Guard run first on every route of the plugin (authentication: answer 401/403 or throw an error with that `statusCode`). */
  onRequest?: onRequestHookHandler | onRequestHookHandler[]
  /** Guard run after validation, before the handler (authorisation that needs the parsed request). */
  preHandler?: preHandlerHookHandler | preHandlerHookHandler[]
  /** Mount without any guard. Default `false`: registering without `onRequest` or `preHandler` throws. Only for trusted networks. */
  insecure?: boolean
  /** Largest request body in bytes; larger ones get 413. Default {@link DEFAULT_ROUTES_BODY_LIMIT}. */
  bodyLimit?: number
  /**
   * Serve the admin web page (`schedulerUi`) at the prefix (`/scheduler/`). Default `true`. The page
   * shell and its script hold no data and are served without the guard, so a browser can load them;
   * every API call the page makes goes through the guard (a 401/403 shows its sign-in form).
   */
  ui?: boolean
  /** How the routes appear in the host's OpenAPI document (`@fastify/swagger`): `{ security, tags, operationIdPrefix }`. Every route has an `operationId`; guarded routes document 401 and 403. */
  openapi?: SchedulerOpenApiOptions
  /**
   * Origins (`['https://ops.example.com']`: scheme, host, port) whose pages may change jobs through
   * the API with the browser's credentials, besides the API's own origin. Default `[]`: a POST,
   * PATCH, PUT or DELETE that a browser sends for another origin's page (also a sibling subdomain or
   * another port) gets 403 `FST_SCHEDULER_CROSS_SITE`; requests without browser headers (curl,
   * servers) are not affected. See `cross-site.ts` for the rule.
   */
  allowedOrigins?: string[]
  /**
   * Who a request acts for, recorded as the `actor` of the changes it makes (audit trail):
   * `(request) => string` (may be async), called once per changing request after the guards. Default:
   * the guard's `request.user.id` (or a JWT's `sub`) when it set one, else `'api'`. An answer is sanitised and cut at
   * 200 characters; a hook that throws, or answers anything but a non-empty string, records `'api'`
   * and logs a warning on the request's log: the request itself is not affected.
   */
  actor?: ActorHook
}

/** Ours, and Fastify's register options that make sense here. */
const KNOWN_OPTIONS = ['prefix', 'onRequest', 'preHandler', 'insecure', 'bodyLimit', 'ui', 'openapi', 'allowedOrigins', 'actor', 'logLevel', 'logSerializers']

interface Resolved {
  onRequest: onRequestHookHandler[]
  preHandler: preHandlerHookHandler[]
  bodyLimit: number
  ui: boolean
  openapi: SchedulerOpenApiOptions
  allowedOrigins: Set<string>
  actor: ActorHook | undefined
}

const plugin: FastifyPluginAsync<SchedulerRoutesOptions> = async (app: FastifyInstance, options: SchedulerRoutesOptions) => {
  const { onRequest, preHandler, bodyLimit, ui, openapi, allowedOrigins, actor } = checkRoutesOptions(options)
  if (!app.hasDecorator(kScheduler)) {
    throw new InvalidOptionsError('routes', 'the scheduler is missing: register schedulerPlugin before schedulerRoutes (or use its routes option)')
  }
  const scheduler = schedulerOf(app)

  // The API, behind the guard.
  await app.register(async (api) => {
    api.addHook('onRequest', refuseCrossSite(allowedOrigins))
    api.addHook('onSend', noStore)
    api.addHook('onRoute', bodylessActions)
    const guarded = onRequest.length + preHandler.length > 0
    api.addHook('onRoute', (route) => { addOpenApiMetadata(route, api.prefix, guarded, openapi) })
    for (const hook of onRequest) api.addHook('onRequest', hook)
    for (const hook of preHandler) api.addHook('preHandler', hook)
    api.setValidatorCompiler(validatorCompiler)
    api.setSchemaErrorFormatter((errors, dataVar) => new Error(formatValidationErrors(errors, dataVar)))
    api.removeAllContentTypeParsers()
    api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, parseJsonBody)
    api.addContentTypeParser('*', refuseOtherMediaTypes)
    api.setErrorHandler(handleRouteError)
    api.setNotFoundHandler(handleRouteNotFound)
    await api.register(jobRoutes, { scheduler, actor })
    await api.register(executionRoutes, { scheduler })
    await api.register(statusRoutes, { scheduler })
    await api.register(statsRoutes, { scheduler })
    await api.register(auditRoutes, { scheduler })
  })
  // The page beside it (its data comes from the guarded API).
  if (ui) await app.register(schedulerUi)
}

/**
 * Validates the options of {@link schedulerRoutes}.
 * @throws InvalidOptionsError (`FST_SCHEDULER_INVALID_OPTIONS`) naming the option: unknown keys,
 *   a missing prefix, hooks that are not functions, no guard without `insecure: true`, and
 *   `allowedOrigins` entries that are not origins.
 */
export function checkRoutesOptions (options: SchedulerRoutesOptions): Resolved {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionsError('routes', "must be an object like { prefix: '/scheduler', onRequest: guard }")
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) throw new InvalidOptionsError(`routes.${key}`, `is not an option of the admin routes; known options: ${KNOWN_OPTIONS.join(', ')}`)
  }
  if (typeof options.prefix !== 'string' || !options.prefix.startsWith('/')) {
    throw new InvalidOptionsError('routes.prefix', `must be a path such as '/scheduler', got ${JSON.stringify(options.prefix)}; mounting the admin routes at the root would mix them with the app's own`)
  }
  const onRequest = hooks(options.onRequest, 'onRequest')
  const preHandler = hooks(options.preHandler, 'preHandler')
  if (options.insecure !== undefined && typeof options.insecure !== 'boolean') {
    throw new InvalidOptionsError('routes.insecure', `must be true or false, got ${JSON.stringify(options.insecure)}`)
  }
  if (onRequest.length === 0 && preHandler.length === 0 && options.insecure !== true) {
    throw new InvalidOptionsError('routes', 'the admin routes can change and run jobs, so they need a guard: pass onRequest or preHandler ' +
      '(for example a bearer-token check that answers 401), or insecure: true to mount them unguarded on a trusted network')
  }
  const bodyLimit = options.bodyLimit ?? DEFAULT_ROUTES_BODY_LIMIT
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1024) {
    throw new InvalidOptionsError('routes.bodyLimit', `must be a whole number of bytes, at least 1024, got ${JSON.stringify(options.bodyLimit)}`)
  }
  if (options.ui !== undefined && typeof options.ui !== 'boolean') {
    throw new InvalidOptionsError('routes.ui', `must be true or false, got ${JSON.stringify(options.ui)}`)
  }
  if (options.actor !== undefined && typeof options.actor !== 'function') {
    throw new InvalidOptionsError('routes.actor', 'must be a function (request) => string naming who the request acts for, e.g. (request) => request.user.email')
  }
  return {
    onRequest, preHandler, bodyLimit, ui: options.ui ?? true, openapi: checkOpenApi(options.openapi), allowedOrigins: normalizeAllowedOrigins(options.allowedOrigins), actor: options.actor
  }
}

function checkOpenApi (openapi: SchedulerOpenApiOptions | undefined): SchedulerOpenApiOptions {
  if (openapi === undefined) return {}
  if (openapi === null || typeof openapi !== 'object' || Array.isArray(openapi)) {
    throw new InvalidOptionsError('routes.openapi', "must be an object like { security: [{ bearerAuth: [] }], tags: ['scheduler'], operationIdPrefix: 'scheduler' }")
  }
  for (const key of Object.keys(openapi)) {
    if (!['security', 'tags', 'operationIdPrefix'].includes(key)) throw new InvalidOptionsError(`routes.openapi.${key}`, 'is not an option; known: security, tags, operationIdPrefix')
  }
  const { security, tags, operationIdPrefix } = openapi
  if (security !== undefined && (!Array.isArray(security) || security.some((item) => item === null || typeof item !== 'object' || Array.isArray(item)))) {
    throw new InvalidOptionsError('routes.openapi.security', 'must be an array of OpenAPI security requirements, e.g. [{ bearerAuth: [] }]')
  }
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag === ''))) {
    throw new InvalidOptionsError('routes.openapi.tags', "must be an array of non-empty strings, e.g. ['scheduler']")
  }
  if (operationIdPrefix !== undefined && (typeof operationIdPrefix !== 'string' || !/^[A-Za-z_]\w*$/.test(operationIdPrefix))) {
    throw new InvalidOptionsError('routes.openapi.operationIdPrefix', `must be an identifier such as 'scheduler', got ${JSON.stringify(operationIdPrefix)}`)
  }
  return openapi
}

function hooks<H> (value: H | H[] | undefined, name: string): H[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  if (list.some((hook) => typeof hook !== 'function')) {
    throw new InvalidOptionsError(`routes.${name}`, 'must be a hook function (request, reply) or an array of them')
  }
  return list
}

/**
 * The admin REST API plugin (encapsulated: its hooks and handlers stay inside its prefix). Needs
 * `schedulerPlugin` registered first.
 * @throws InvalidOptionsError at registration for bad options or a missing guard (see {@link checkRoutesOptions}).
 */
export const schedulerRoutes = fp(plugin, {
  name: 'fastify-mikro-scheduler-routes',
  fastify: '5.x',
  // Needs app.scheduler (under whatever decorator name): Fastify checks it at registration.
  dependencies: ['fastify-mikro-scheduler'],
  // Its hooks, validator and error handler stay inside its prefix.
  encapsulate: true
})

/**
 * For the main plugin's `routes` option: registers {@link schedulerRoutes} with `prefix` defaulting
 * to {@link DEFAULT_ROUTES_PREFIX}. Same errors.
 */
export async function registerRoutesOption (app: FastifyInstance, routes: SchedulerRoutesOptions): Promise<void> {
  if (routes === null || typeof routes !== 'object' || Array.isArray(routes)) {
    throw new InvalidOptionsError('routes', "must be an object like { prefix: '/scheduler', onRequest: guard }")
  }
  await app.register(schedulerRoutes, { prefix: DEFAULT_ROUTES_PREFIX, ...routes })
}
