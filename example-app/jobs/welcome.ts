/**
 * A one-off `date` job 10 seconds after the deployment started. Also declared through the
 * plugin's `jobs` option. Every worker of one deployment computes the same `runDate` (the primary
 * hands `startedAt` down), so the stored job is unchanged and fires once; the next deployment
 * changes the trigger, which reschedules it.
 */
import type { JobDefinition, TaskContext } from 'fastify-mikro-scheduler'

export const WELCOME_TASK = 'welcome'

export async function welcome (ctx: TaskContext, message: string): Promise<void> {
  ctx.log.info({ runTime: ctx.runTime }, message)
}

export function welcomeJob (startedAt: Date): JobDefinition {
  return {
    id: 'welcome',
    task: WELCOME_TASK,
    args: ['the one-off date job ran, 10 s after start'],
    trigger: { type: 'date', runDate: new Date(startedAt.getTime() + 10_000).toISOString() }
  }
}
