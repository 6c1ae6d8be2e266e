/**
 * `GET /status` and `GET /tasks`: this node, the leader (advisory lock heartbeat), the live nodes
 * (roles, tasks, running count, last heartbeat; a planner and a worker of a split deployment too),
 * executions running anywhere, the next wake-up, the registered tasks.
 */
import Fastify from 'fastify'
import t from 'tap'
import { schedulerPlugin } from '../../src/index.js'
import { openOrm } from '../helpers/database.js'
import { pollUntil } from '../cluster/processes.js'
import { cron, routesApp } from './fixtures/app.js'

t.test('status with the advisory lock: this node leads, a running execution, the next wake-up', async (t) => {
  let release: () => void = () => {}
  const blocked = new Promise<void>((resolve) => { release = resolve })
  let acquired: Promise<unknown> = Promise.resolve()
  const { app } = await routesApp(t, 'routes_status', {
    plugin: { lock: 'advisory', nodeId: 'node-a', tasks: { block: async () => blocked, echo: async () => {} } },
    beforeReady: (app) => { acquired = app.scheduler.once('leader:acquired') }
  })
  t.teardown(() => release())
  await acquired

  await app.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'blocker', task: 'block', trigger: cron('0 0 1 1 *') } })
  const submitted = app.scheduler.once('job:submitted', ({ jobId }) => jobId === 'blocker')
  const run = (await app.inject({ method: 'POST', url: '/scheduler/jobs/blocker/run' })).json()
  await submitted

  const response = await app.inject({ url: '/scheduler/status' })
  t.equal(response.statusCode, 200)
  const status = response.json()
  t.match(status, {
    nodeId: 'node-a',
    state: 'running',
    isLeader: true,
    lock: 'advisory',
    leader: { nodeId: 'node-a', acquiredAt: String, heartbeatAt: String },
    localExecutions: [run.id],
    tasks: ['block', 'echo']
  })
  t.same(status.runningExecutions.map((execution: { id: number, status: string }) => [execution.id, execution.status]), [[run.id, 'running']], 'executions running anywhere')
  t.match(status.nodes, [{ nodeId: 'node-a', pid: process.pid, tasks: ['block', 'echo'], roles: ['plan', 'execute'], lock: 'advisory', heartbeatMs: 5000, running: 1, startedAt: String, lastSeenAt: String, lastSeenAgoMs: Number }], 'the live nodes: this one, running the blocker')
  t.equal(status.nodes.length, 1)
  t.match(status.nextWakeup, /^\d{4}-01-01T00:00:00\.000Z$/, 'the next wake-up is the next fire time')

  release()
  await app.scheduler.waitForExecution(run.id)
  t.same((await app.inject({ url: '/scheduler/status' })).json().runningExecutions, [], 'none running afterwards')
})

t.test('status of a split deployment: a planner with execute: false and a worker with plan: false, each with its roles, tasks, running count and last heartbeat', async (t) => {
  let release: () => void = () => {}
  const blocked = new Promise<void>((resolve) => { release = resolve })
  t.teardown(() => release())
  let acquired: Promise<unknown> = Promise.resolve()
  // The web process plans (it leads) but runs no handler; its `block` is never called.
  const { app: web, url } = await routesApp(t, 'routes_status_split', {
    plugin: { lock: 'advisory', nodeId: 'web-1', execute: false, tasks: { block: async () => { throw new Error('the planner ran a handler') } } },
    beforeReady: (app) => { acquired = app.scheduler.once('leader:acquired') }
  })
  await acquired
  // The worker, on the same database, never leads and runs what the planner queues.
  const worker = Fastify()
  t.teardown(async () => worker.close())
  await worker.register(schedulerPlugin, { orm: await openOrm(t, url), lock: 'advisory', plan: false, nodeId: 'worker-1', pollIntervalMs: 30_000, tasks: { block: async () => blocked } })
  await worker.ready()

  await web.inject({ method: 'POST', url: '/scheduler/jobs', payload: { id: 'blocker', task: 'block', trigger: cron('0 0 1 1 *') } })
  const run = (await web.inject({ method: 'POST', url: '/scheduler/jobs/blocker/run' })).json()
  t.match(run, { status: 'queued', owner: null }, 'run-now queues the run for a worker')

  type Node = { nodeId: string, roles: string[], tasks: string[], running: number, lastSeenAt: string, lastSeenAgoMs: number }
  const status = await pollUntil('both nodes live, the worker running the blocker', async () => {
    const body = (await web.inject({ url: '/scheduler/status' })).json() as { nodes: Node[], isLeader: boolean, runningExecutions: Array<{ id: number, owner: string }> }
    // getStatus() reads the nodes and the running executions side by side: wait until both show the start.
    return body.nodes.length === 2 && body.nodes[1]?.running === 1 && body.runningExecutions.length === 1 && body
  }, 10_000)
  t.equal(status.isLeader, true, 'the planner leads')
  t.match(status.nodes, [
    { nodeId: 'web-1', roles: ['plan'], tasks: ['block'], running: 0, lastSeenAt: String, lastSeenAgoMs: Number },
    { nodeId: 'worker-1', roles: ['execute'], tasks: ['block'], running: 1, lastSeenAt: String, lastSeenAgoMs: Number }
  ], 'the live nodes, by node id: the planner runs nothing, the worker runs the blocker')
  for (const node of status.nodes) t.ok(node.lastSeenAgoMs >= 0 && node.lastSeenAgoMs < 15_000, `${node.nodeId} was seen within three heartbeats (${node.lastSeenAgoMs} ms ago)`)
  t.same(status.runningExecutions.map((execution) => [execution.id, execution.owner]), [[run.id, 'worker-1']], 'the run is the worker\'s')
  t.same((await worker.inject({ url: '/scheduler/status' })).statusCode, 404, 'the worker mounts no routes: one status, read from the database, serves the whole cluster')

  release()
  await pollUntil('the blocker finished', async () => ((await web.inject({ url: '/scheduler/status' })).json() as { nodes: Node[] }).nodes.every((node) => node.running === 0), 10_000)
})

t.test('tasks: the names registered in this process', async (t) => {
  const { app } = await routesApp(t, 'routes_tasks')
  app.scheduler.registerTask('later.added', async () => {})
  const response = await app.inject({ url: '/scheduler/tasks' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { items: [{ name: 'echo' }, { name: 'fail' }, { name: 'later.added' }, { name: 'reports.daily' }], total: 4 })
})

t.test('status of a process that does not run the scheduler', async (t) => {
  const { app } = await routesApp(t, 'routes_status_web', { plugin: { autoStart: false, nodeId: 'web-1' } })
  const status = (await app.inject({ url: '/scheduler/status' })).json()
  t.match(status, { nodeId: 'web-1', state: 'stopped', isLeader: false, leader: null, nextWakeup: null })
  t.same(status.nodes, [], 'no live node: a scheduler that is not started does not register')
  t.same(status.runningExecutions, [])
})
