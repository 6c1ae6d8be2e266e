/**
 * Heartbeat: a log line every 2 seconds. Registered through the plugin's `tasks` and `jobs`
 * options: the configuration style, where jobs name their task and could as well come from a
 * config file.
 */
import type { JobDefinition, TaskContext } from 'fastify-mikro-scheduler'

export const HEARTBEAT_TASK = 'heartbeat'

export async function heartbeat (ctx: TaskContext): Promise<void> {
  ctx.log.info({ runTime: ctx.runTime }, 'heartbeat')
}

export const heartbeatJob: JobDefinition = {
  id: 'heartbeat',
  task: HEARTBEAT_TASK,
  trigger: { type: 'interval', seconds: 2 }
}
