/**
 * A cron job at the start of every minute that writes a row to the example's own `minute_report`
 * table through `ctx.em` (a fresh EntityManager fork per execution). Registered with
 * `app.scheduler.registerJob(definition, handler)`.
 */
import type { FastifyInstance } from 'fastify'
import { SchedulerJobExecution, type TaskContext } from 'fastify-mikro-scheduler'
import { MinuteReport } from '../entities/minute-report.ts'

export function registerMinuteReport (app: FastifyInstance): void {
  app.scheduler.registerJob({ id: 'minute-report', trigger: { type: 'cron', expression: '* * * * *' } }, writeMinuteReport)
}

async function writeMinuteReport (ctx: TaskContext): Promise<void> {
  const since = new Date(ctx.runTime.getTime() - 60_000)
  const window = { runTime: { $gte: since, $lt: ctx.runTime } }
  const executions = await ctx.em.count(SchedulerJobExecution, window)
  const errors = await ctx.em.count(SchedulerJobExecution, { ...window, status: 'error' })
  ctx.em.create(MinuteReport, { runTime: ctx.runTime, executions, errors })
  await ctx.em.flush()
  ctx.log.info({ executions, errors }, 'minute report written')
}
