/**
 * Request validation of the admin routes, set on the routes' own (encapsulated) context so the
 * host's settings are untouched:
 * - `validatorCompiler`: TypeBox's compiled checks. Bodies are checked as sent (no coercion, no
 *   removal of unknown fields, unlike Fastify's default Ajv which strips them silently); query
 *   strings and params convert only strings that are exactly a number or `true`/`false`, so
 *   `?limit=1.5` is refused instead of truncated, and get their schema defaults (a copy: the
 *   parsed query object is not changed).
 * - `formatValidationErrors`: one message naming each bad field (`body.maxInstances: must be >= 1`).
 * - `parseJsonBody`: JSON bodies with `__proto__` or `constructor` keys anywhere are refused, whatever
 *   the host's `onProtoPoisoning` setting; an empty body is no body.
 */
import type { FastifyRequest, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { InvalidJsonBodyError } from './errors.js'

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>, type?: unknown }

/** Keys refused in request bodies (prototype pollution). */
export const FORBIDDEN_KEYS = ['__proto__', 'constructor'] as const

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  const converts = httpPart === 'querystring' || httpPart === 'params'
  return (value: unknown) => {
    const input = converts ? Value.Default(schema, convertStrings(schema as JsonSchema, value)) : value
    if (!check.Check(input)) return { error: withKnownFields(check.Errors(input) as unknown as SchemaError[], schema) as unknown as FastifySchemaValidationError[] }
    return { value: input }
  }
}

/** Adds the object's known field names to `additionalProperties` errors, for the message. */
function withKnownFields (errors: SchemaError[], schema: unknown): SchemaError[] {
  return errors.map((error) => error.keyword !== 'additionalProperties'
    ? error
    : { ...error, params: { ...error.params, knownProperties: Object.keys(resolve(schema, error.schemaPath)?.properties ?? {}) } })
}

/** Strings of a query string or params object that are exactly a number or boolean, as the schema wants them. */
function convertStrings (schema: JsonSchema, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || schema.properties === undefined) return value
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const [key, raw] of Object.entries(out)) {
    const type = schema.properties[key]?.type
    if (typeof raw !== 'string') continue
    if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) out[key] = Number(raw)
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) out[key] = raw === 'true'
  }
  return out
}

interface SchemaError {
  keyword: string
  schemaPath: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
}

/**
 * One message for a failed validation, naming each bad field, for example
 * `body.maxInstances: must be >= 1; body: unknown field 'extra' (known: id, task, ...)`.
 * `anyOf` branches (nullable fields) are folded into one "must be ... or ..." clause.
 */
export function formatValidationErrors (errors: FastifySchemaValidationError[], part: string): string {
  const list = errors as unknown as SchemaError[]
  const folded = new Set<SchemaError>()
  const clauses: string[] = []
  for (const error of list) {
    if (error.keyword !== 'anyOf') continue
    const branches = list.filter((other) => other !== error && other.instancePath === error.instancePath && other.schemaPath.startsWith(`${error.schemaPath}/anyOf/`))
    for (const branch of branches) folded.add(branch)
    clauses.push(`${where(part, error.instancePath)}: ${branches.map((branch) => branch.message).join(' or ') || 'does not match any allowed form'}`)
  }
  for (const error of list) {
    if (error.keyword === 'anyOf' || folded.has(error)) continue
    // TypeBox reports an unknown field twice: as `additionalProperties` on the object and as a
    // `false` schema on the field; the first says more.
    if (error.keyword === 'boolean' && list.some((other) => other.keyword === 'additionalProperties')) continue
    clauses.push(describe(error, part))
  }
  return [...new Set(clauses)].slice(0, 5).join('; ')
}

function describe (error: SchemaError, part: string): string {
  const at = where(part, error.instancePath)
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params.additionalProperties as string[] | undefined) ?? []
      const known = (error.params.knownProperties as string[] | undefined) ?? []
      const names = extra.map((name) => `'${name}'`).join(', ')
      return `${at}: unknown field${extra.length === 1 ? '' : 's'} ${names}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`
    }
    case 'required': {
      const missing = (error.params.requiredProperties as string[] | undefined) ?? []
      return missing.map((name) => `${where(part, `${error.instancePath}/${name}`)}: is required`).join('; ')
    }
    case 'enum':
      return `${at}: must be one of ${((error.params.allowedValues as unknown[] | undefined) ?? []).map((v) => JSON.stringify(v)).join(', ')}`
    case 'minProperties':
      return `${at}: give at least ${String(error.params.limit)} field${error.params.limit === 1 ? '' : 's'}`
    default:
      return `${at}: ${error.message ?? error.keyword}`
  }
}

/** `body` + `/trigger/type` → `body.trigger.type`; query strings read `query.limit`. */
function where (part: string, instancePath: string): string {
  const base = part === 'querystring' ? 'query' : part
  const path = instancePath.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
  return [base, ...path].join('.')
}

/** The sub-schema at a `#/properties/x` pointer (for listing an object's known fields). */
function resolve (schema: unknown, pointer: string): JsonSchema | undefined {
  let node = schema as JsonSchema | undefined
  for (const segment of pointer.replace(/^#\/?/, '').split('/').filter((s) => s !== '')) {
    node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')] as JsonSchema | undefined
  }
  return node
}

/**
 * The JSON body parser of the routes: `JSON.parse` (which makes a `__proto__` key an ordinary own
 * property, never the prototype), then a refusal of any {@link FORBIDDEN_KEYS} key at any depth,
 * so nothing downstream can be tricked by one. An empty body is `undefined` (for POSTs without a body).
 */
export function parseJsonBody (_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  if (text.trim() === '') {
    done(null, undefined)
    return
  }
  let forbidden: string | null = null
  let parsed: unknown
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (forbidden === null && (FORBIDDEN_KEYS as readonly string[]).includes(key)) forbidden = key
      return value
    })
  } catch (error) {
    done(new InvalidJsonBodyError(`is not valid JSON: ${(error as Error).message}`))
    return
  }
  if (forbidden !== null) {
    done(new InvalidJsonBodyError(`the key '${forbidden}' is not allowed anywhere in a request body (it could pollute object prototypes); remove it`))
    return
  }
  done(null, parsed)
}
