/**
 * A job that fails every other run, to show `error` executions with their traceback in the
 * history table. Registered with the curried `registerJob(scheduler, trigger, options)(handler)`,
 * the form django-apscheduler users know as `@register_job(...)`.
 */
import type { FastifyInstance } from 'fastify'
import { registerJob, type TaskContext } from 'fastify-mikro-scheduler'

const PERIOD_SECONDS = 5

export function registerFlaky (app: FastifyInstance): void {
  registerJob(app.scheduler, { type: 'interval', seconds: PERIOD_SECONDS }, { id: 'flaky' })(flaky)
}

async function flaky (ctx: TaskContext): Promise<void> {
  // Numbering the runs by their scheduled time gives the same answer in whichever worker runs it.
  const run = Math.floor(ctx.runTime.getTime() / (PERIOD_SECONDS * 1000))
  if (run % 2 === 1) throw new Error(`flaky run ${run} failed on purpose (odd runs fail)`)
  ctx.log.info({ run }, 'flaky run succeeded (even runs succeed)')
}
