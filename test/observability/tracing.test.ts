/**
 * OpenTelemetry traces: with the SDK's in-memory exporter installed as the global tracer provider,
 * each execution on PostgreSQL yields one `scheduler.execute <task>` span whose attributes match
 * the execution row, errors and timeouts are recorded, spans a handler starts are its children,
 * and claims get their own span.
 */
import t from 'tap'
import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { SPAN_ATTRIBUTES, TRACER_NAME } from '../../src/observability/tracing.js'
import { query } from '../helpers/database.js'
import { schedulerOnPostgres } from '../helpers/scheduler.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const contextManager = new AsyncLocalStorageContextManager().enable()
context.setGlobalContextManager(contextManager)
trace.setGlobalTracerProvider(provider)
t.teardown(async () => {
  await provider.shutdown()
  trace.disable()
  context.disable()
})

t.test('one span per execution, with its attributes, errors and children', async (t) => {
  const { scheduler, url } = await schedulerOnPostgres(t, 'tracing')
  const handlerSpans = new Map<string, string | undefined>()
  scheduler.registerTask('ok', async (ctx) => {
    handlerSpans.set(ctx.job.id, trace.getActiveSpan()?.spanContext().spanId)
    await trace.getTracer('the-host').startActiveSpan('host work', async (span) => { span.end() })
  })
  scheduler.registerTask('boom', async () => { throw new TypeError('bad input') })
  scheduler.registerTask('slow', async (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())))
  await scheduler.start()
  await scheduler.addJob({ id: 'job-ok', task: 'ok', trigger: { type: 'interval', seconds: 3600 } })
  await scheduler.addJob({ id: 'job-boom', task: 'boom', trigger: { type: 'interval', seconds: 3600 } })
  await scheduler.addJob({ id: 'job-slow', task: 'slow', trigger: { type: 'interval', seconds: 3600 }, timeoutMs: 50 })
  const executions = new Map<string, number>()
  for (const id of ['job-ok', 'job-boom', 'job-slow']) executions.set(id, (await scheduler.runJob(id)).id)
  for (const id of executions.values()) await scheduler.waitForExecution(id)
  await scheduler.shutdown()

  const spans = exporter.getFinishedSpans()
  const executeSpans = spans.filter((span) => span.name.startsWith('scheduler.execute '))
  t.same(executeSpans.map((span) => span.name).sort(), ['scheduler.execute boom', 'scheduler.execute ok', 'scheduler.execute slow'], 'one span per execution, named after the task')
  const rows = await query(url, 'SELECT id::integer AS id, job_id, run_time, status, owner FROM scheduler_job_execution ORDER BY id')
  t.equal(rows.length, 3)
  for (const row of rows) {
    const span = executeSpans.find((candidate) => candidate.attributes[SPAN_ATTRIBUTES.executionId] === row.id) as ReadableSpan
    t.ok(span, `a span for execution ${row.id}`)
    t.equal(span.instrumentationScope.name, TRACER_NAME)
    t.same(span.attributes, {
      [SPAN_ATTRIBUTES.task]: span.name.slice('scheduler.execute '.length),
      [SPAN_ATTRIBUTES.jobId]: row.job_id,
      [SPAN_ATTRIBUTES.executionId]: row.id,
      [SPAN_ATTRIBUTES.runTime]: (row.run_time as Date).toISOString(),
      [SPAN_ATTRIBUTES.attempt]: 1,
      [SPAN_ATTRIBUTES.owner]: row.owner,
      [SPAN_ATTRIBUTES.status]: row.status
    }, `span attributes of ${row.job_id} match its row`)
    t.equal(row.owner, scheduler.nodeId)
  }
  const byJob = (jobId: string): ReadableSpan => executeSpans.find((span) => span.attributes[SPAN_ATTRIBUTES.jobId] === jobId) as ReadableSpan

  const ok = byJob('job-ok')
  t.equal(ok.status.code, SpanStatusCode.OK)
  t.same(ok.events, [])
  t.equal(handlerSpans.get('job-ok'), ok.spanContext().spanId, 'the handler runs with the execution span active')
  const hostWork = spans.find((span) => span.name === 'host work') as ReadableSpan
  t.equal(hostWork.parentSpanContext?.spanId, ok.spanContext().spanId, "a span the handler starts is the execution span's child")
  t.equal(hostWork.spanContext().traceId, ok.spanContext().traceId)

  const boom = byJob('job-boom')
  t.equal(boom.attributes[SPAN_ATTRIBUTES.status], 'error')
  t.same(boom.status, { code: SpanStatusCode.ERROR, message: 'TypeError: bad input' })
  t.equal(boom.events.length, 1)
  t.equal(boom.events[0]?.name, 'exception')
  t.equal(boom.events[0]?.attributes?.['exception.message'], 'TypeError: bad input')
  t.match(boom.events[0]?.attributes?.['exception.stacktrace'], /TypeError: bad input\n\s+at /, 'the traceback is recorded')

  const slow = byJob('job-slow')
  t.equal(slow.attributes[SPAN_ATTRIBUTES.status], 'timeout')
  t.equal(slow.status.code, SpanStatusCode.ERROR)
  t.match(slow.status.message, /timeoutMs \(50 ms\)/)

  const claims = spans.filter((span) => span.name === 'scheduler.claim')
  t.ok(claims.length >= 1, `claims are traced (${claims.length})`)
  t.ok(claims.every((span) => span.attributes[SPAN_ATTRIBUTES.nodeId] === scheduler.nodeId), 'claim spans name the claiming node')
  const claimedJobs = claims.reduce((sum, span) => sum + (span.attributes[SPAN_ATTRIBUTES.claimedJobs] as number), 0)
  t.equal(claimedJobs, 3, 'the claims together handled the three queued runs')
})
