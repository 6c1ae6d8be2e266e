/**
 * The admin routes' OpenAPI metadata, added to every route's schema as it is registered (an
 * `onRoute` hook of the routes plugin), so `@fastify/swagger` documents them fully: a stable
 * `operationId` (with the host's `operationIdPrefix`), the host's `tags` and `security`
 * requirement, and the 401/403 answers of the guard when there is one.
 */
import type { RouteOptions } from 'fastify'
import { ErrorSchema } from './schemas.js'

/** `schedulerRoutes({ openapi })`: how the routes appear in the host's OpenAPI document. */
export interface SchedulerOpenApiOptions {
  /** Security requirements of every operation, as OpenAPI writes them, e.g. `[{ bearerAuth: [] }]` (the scheme is declared in the host's swagger options). Default: none declared. */
  security?: Array<Record<string, string[]>>
  /** Tags of every operation. Default `['scheduler']`. */
  tags?: string[]
  /** Prepended to every `operationId` (`'scheduler'` gives `schedulerListJobs`), to keep them unique in the host's document. Default `''`. */
  operationIdPrefix?: string
}

/** `operationId` of each route, by method and path under the prefix; routes not listed get one derived from the path. */
const OPERATION_IDS: Record<string, string> = {
  'GET /jobs': 'listJobs',
  'POST /jobs': 'addJob',
  'GET /jobs/:id': 'getJob',
  'PATCH /jobs/:id': 'changeJob',
  'DELETE /jobs/:id': 'removeJob',
  'POST /jobs/:id/pause': 'pauseJob',
  'POST /jobs/:id/resume': 'resumeJob',
  'POST /jobs/:id/run': 'runJobNow',
  'GET /jobs/:id/fire-times': 'previewJobFireTimes',
  'POST /fire-times': 'previewTriggerFireTimes',
  'GET /jobs/:id/executions': 'listJobExecutions',
  'GET /executions': 'listExecutions',
  'GET /executions/:id': 'getExecution',
  'GET /jobs/:id/audit': 'listJobAudit',
  'GET /audit': 'listAudit',
  'GET /status': 'getStatus',
  'GET /tasks': 'listTasks'
}

/** `GET /jobs/:id/run-history` → `getJobsIdRunHistory`: for routes without an entry above. */
function derivedOperationId (method: string, path: string): string {
  const words = [method.toLowerCase(), ...path.split(/[^A-Za-z0-9]+/).filter(Boolean)]
  return words.map((word, index) => index === 0 ? word : word[0]!.toUpperCase() + word.slice(1)).join('')
}

/**
 * Fills in the OpenAPI metadata of one route (`routeOptions.url` includes `prefix`).
 * `guarded`: the plugin has an `onRequest`/`preHandler` guard, so 401 and 403 are possible answers.
 */
export function addOpenApiMetadata (route: RouteOptions, prefix: string, guarded: boolean, options: SchedulerOpenApiOptions): void {
  const schema = route.schema as Record<string, any> | undefined
  if (schema === undefined || schema.hide === true) return
  const method = Array.isArray(route.method) ? route.method[0]! : route.method
  if (method === 'HEAD') return
  const path = route.url.slice(prefix.length) || '/'
  const name = OPERATION_IDS[`${method} ${path}`] ?? derivedOperationId(method, path)
  const prefixText = options.operationIdPrefix ?? ''
  schema.operationId = prefixText === '' ? name : prefixText + name[0]!.toUpperCase() + name.slice(1)
  if (options.tags !== undefined) schema.tags = [...options.tags]
  if (options.security !== undefined) schema.security = options.security.map((requirement) => ({ ...requirement }))
  if (guarded) {
    schema.response = {
      ...schema.response,
      401: { ...ErrorSchema, description: 'Not authenticated: the guard of the admin routes refused the request.' },
      403: { ...ErrorSchema, description: 'Not allowed: the guard of the admin routes refused the request.' }
    }
  }
}
