/**
 * The admin routes in the host's OpenAPI document (`@fastify/swagger`): every operation has a
 * unique `operationId` with the host's prefix, the host's tags and security requirement, 401/403
 * when guarded (not when mounted `insecure`), and the document passes `@redocly/cli lint` with its
 * recommended rules (the real CLI, run on the generated document).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import { schedulerPlugin, type SchedulerRoutesOptions } from '../../src/index.js'
import { freshDatabase, openOrm } from '../helpers/database.js'

// tsc, npm pack or the redocly CLI run as child processes: slow on a busy machine, so more than the default file timeout.
t.setTimeout(600_000)

type Operation = { operationId?: string, tags?: string[], security?: unknown[], responses: Record<string, unknown> }
type Document = { paths: Record<string, Record<string, Operation>> }

const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
  if (request.headers.authorization !== 'Bearer secret-token-0123456789') await reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'sign in' })
}

async function documentOf (t: Test, routes: SchedulerRoutesOptions): Promise<{ app: FastifyInstance, doc: Document }> {
  const url = await freshDatabase(t, 'openapi')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(swagger, {
    openapi: {
      info: { title: 'host app', version: '1.0.0', description: 'A host app with the scheduler admin API.', license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' } },
      servers: [{ url: 'http://127.0.0.1:3000' }],
      tags: [{ name: 'scheduler', description: 'Jobs, executions and status of the scheduler.' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } }
    }
  })
  await app.register(schedulerPlugin, { orm, autoStart: false, routes: { ui: false, ...routes } })
  await app.ready()
  return { app, doc: app.swagger() as unknown as Document }
}

function operations (doc: Document): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]))
}

t.test('guarded: operationIds with the prefix, tags, security, 401/403; redocly lint passes', async (t) => {
  const { doc } = await documentOf(t, { prefix: '/scheduler', onRequest: guard, openapi: { security: [{ bearerAuth: [] }], tags: ['scheduler'], operationIdPrefix: 'scheduler' } })
  const ops = operations(doc)
  t.ok(ops.length >= 15, `the document lists the admin operations (${ops.length})`)
  const ids = ops.map(([, op]) => op.operationId)
  t.same(ids.filter((id) => typeof id !== 'string' || !/^scheduler[A-Z]\w+$/.test(id)), [], 'every operation has an operationId with the prefix')
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  t.ok(ids.includes('schedulerListJobs') && ids.includes('schedulerGetStatus'), 'named after what they do')
  for (const [name, op] of ops) {
    t.ok('401' in op.responses && '403' in op.responses, `${name} documents 401 and 403`)
    t.same(op.security, [{ bearerAuth: [] }], `${name} carries the security requirement`)
    t.same(op.tags, ['scheduler'], `${name} has the tags`)
  }

  const dir = mkdtempSync(join(tmpdir(), 'fms-openapi-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(doc, null, 2))
  const cli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js')
  const result = await new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, 'lint', '--extends', 'recommended', '--format', 'json', file], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024
    }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? 1, stdout, stderr }))
  })
  const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { totals: { errors: number, warnings: number }, problems: Array<{ ruleId: string, severity: string, message: string }> }
  t.same(report.problems.filter((problem) => problem.severity === 'error'), [], 'no lint errors')
  t.equal(result.code, 0, `redocly lint exits 0 (${report.totals.warnings} warnings: ${[...new Set(report.problems.map((problem) => problem.ruleId))].join(', ') || 'none'})`)
})

t.test('insecure: no 401/403 documented; default operationIds without a prefix', async (t) => {
  const { doc } = await documentOf(t, { prefix: '/admin', insecure: true })
  const ops = operations(doc)
  t.same(ops.filter(([, op]) => '401' in op.responses || '403' in op.responses).map(([name]) => name), [], 'no guard, no 401/403')
  t.ok(ops.some(([, op]) => op.operationId === 'listJobs'), 'operationIds without a prefix')
})

t.test('bad openapi options are refused, naming them', async (t) => {
  const url = await freshDatabase(t, 'openapi_bad')
  const orm = await openOrm(t, url)
  for (const [openapi, message] of [
    [{ operationIdPrefix: 'two words' }, /routes\.openapi\.operationIdPrefix/],
    [{ security: 'bearer' }, /routes\.openapi\.security/],
    [{ colour: 'red' }, /routes\.openapi\.colour/]
  ] as const) {
    const app = Fastify()
    t.teardown(async () => app.close())
    await t.rejects(async () => { await app.register(schedulerPlugin, { orm, autoStart: false, routes: { prefix: '/s', insecure: true, openapi: openapi as never } }) }, { message })
  }
})
