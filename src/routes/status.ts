/**
 * Scheduler-wide routes:
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /status` | 200 this node's id and state, whether it leads, who leads, the live nodes, executions running anywhere, the next wake-up, its tasks |
 * | `GET /tasks` | 200 `{ items: [{ name }], total }`: the tasks registered in this process (what a job's `task` may name here) |
 */
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Scheduler } from '../scheduler/scheduler.js'
import { errors, StatusSchema, TasksSchema } from './schemas.js'
import { statusJson } from './serialize.js'

const tags = ['scheduler']

export const statusRoutes: FastifyPluginAsync<{ scheduler: Scheduler }> = async (fastify, { scheduler }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/status', {
    schema: { tags, summary: 'Scheduler status: this node, the leader, the live nodes, running executions, next wake-up', response: { 200: StatusSchema, ...errors() } }
  }, async () => statusJson(await scheduler.getStatus()))

  app.get('/tasks', {
    schema: { tags, summary: 'Registered task names', response: { 200: TasksSchema } }
  }, async () => {
    const names = scheduler.taskNames
    return { items: names.map((name) => ({ name })), total: names.length }
  })
}
