/**
 * `GET /status` and `GET /tasks`: this node, the leader (advisory lock heartbeat), executions
 * running anywhere, the next wake-up, the registered tasks.
 */
import t from 'tap'
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
