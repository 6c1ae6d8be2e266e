/**
 * OpenTelemetry traces of the scheduler, through `@opentelemetry/api` only: without an SDK
 * installed by the host every span is a no-op, so tracing costs nothing until someone collects it.
 *
 * - `scheduler.execute <task>`: one span per execution, from the handler's start to its outcome
 *   (success, error, timeout, or cut off at shutdown). The handler runs inside the span's context,
 *   so spans it starts (database, HTTP) become its children. Errors are recorded as exceptions and
 *   set the span status to ERROR.
 * - `scheduler.claim`: one short span per claim transaction of the scheduling loop.
 *
 * Attribute names follow OpenTelemetry's naming rules (lowercase, dot-namespaced); there is no
 * semantic convention for job schedulers yet, so they live under `scheduler.`.
 */
import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import type { ExecutionOutcome, ExecutionRecord, JobRecord } from '../stores/job-store.js'

/** The instrumentation scope name of every span the scheduler starts. */
export const TRACER_NAME = 'fastify-mikro-scheduler'

/** Span attribute names (see README "Traces"). */
export const SPAN_ATTRIBUTES = {
  task: 'scheduler.task',
  jobId: 'scheduler.job.id',
  executionId: 'scheduler.execution.id',
  /** The occurrence's scheduled fire time, ISO 8601 UTC. */
  runTime: 'scheduler.run_time',
  /** 1 for the first try of an occurrence. */
  attempt: 'scheduler.attempt',
  /** Node id of the process that ran the execution. */
  owner: 'scheduler.owner',
  /** The execution's terminal status: `success`, `error`, `timeout`, `abandoned`. */
  status: 'scheduler.execution.status',
  /** Node id of the claiming process (claim spans). */
  nodeId: 'scheduler.node.id',
  /** Jobs a claim transaction handled (claim spans). */
  claimedJobs: 'scheduler.claim.jobs'
} as const

/** One execution's span: run the handler in it, then end it with the outcome. */
export interface ExecutionSpan {
  /** Calls `fn` with the span as the active context and returns what it returns. */
  run<T>(fn: () => T): T
  /** Sets the status attribute, records an error outcome as an exception, and ends the span. Idempotent. */
  end(outcome: ExecutionOutcome): void
}

export class SchedulerTracing {
  readonly #tracer: Tracer

  /** @param tracer default: the global tracer provider's tracer named `fastify-mikro-scheduler` (a no-op without an SDK). */
  constructor (tracer: Tracer = trace.getTracer(TRACER_NAME)) {
    this.#tracer = tracer
  }

  /** Runs one claim transaction inside a `scheduler.claim` span; a failure is recorded and rethrown. */
  async claim<T extends unknown[]>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    return this.#tracer.startActiveSpan('scheduler.claim', { kind: SpanKind.INTERNAL, attributes: { [SPAN_ATTRIBUTES.nodeId]: nodeId } }, async (span) => {
      try {
        const claimed = await fn()
        span.setAttribute(SPAN_ATTRIBUTES.claimedJobs, claimed.length)
        return claimed
      } catch (error) {
        recordError(span, error instanceof Error ? error : { message: String(error) })
        throw error
      } finally {
        span.end()
      }
    })
  }

  /** Starts the `scheduler.execute <task>` span of an execution about to run. */
  execution (job: JobRecord, execution: ExecutionRecord): ExecutionSpan {
    const span = this.#tracer.startSpan(`scheduler.execute ${job.task}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        [SPAN_ATTRIBUTES.task]: job.task,
        [SPAN_ATTRIBUTES.jobId]: job.id,
        [SPAN_ATTRIBUTES.executionId]: execution.id,
        [SPAN_ATTRIBUTES.runTime]: execution.runTime.toISOString(),
        [SPAN_ATTRIBUTES.attempt]: attemptOf(execution),
        ...(execution.owner === null ? {} : { [SPAN_ATTRIBUTES.owner]: execution.owner })
      }
    })
    // No SDK installed (the API's no-op tracer): the span records nothing and carries no trace, so
    // the handler runs as it is, without a context of its own (one allocation less per execution).
    if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return UNTRACED
    const active = trace.setSpan(context.active(), span)
    let ended = false
    return {
      run: (fn) => context.with(active, fn),
      end: (outcome) => {
        if (ended) return
        ended = true
        span.setAttribute(SPAN_ATTRIBUTES.status, outcome.status)
        if (outcome.status === 'success') {
          span.setStatus({ code: SpanStatusCode.OK })
        } else {
          const message = outcome.exception ?? outcome.status
          recordError(span, { name: outcome.status, message, ...(outcome.traceback == null ? {} : { stack: outcome.traceback }) })
        }
        span.end()
      }
    }
  }
}

/** The span of an execution when nothing is traced: runs the handler as it is; `end` does nothing. */
const UNTRACED: ExecutionSpan = {
  run: (fn) => fn(),
  end: () => {}
}

function recordError (span: Span, error: { name?: string, message: string, stack?: string }): void {
  span.recordException(error)
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
}

/** The execution's attempt number; executions without one are first attempts. */
function attemptOf (execution: ExecutionRecord): number {
  const attempt = (execution as ExecutionRecord & { attempt?: number }).attempt
  return typeof attempt === 'number' ? attempt : 1
}
