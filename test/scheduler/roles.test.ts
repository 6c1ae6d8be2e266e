/**
 * Roles and the plan/execute split inside one process (issue #12): two schedulers on one database
 * (PostgreSQL, then MariaDB), one planning and one executing. The real-process versions are in
 * test/cluster. Handler calls are counted by the handlers themselves, and who ran what is read
 * from the rows' `owner`.
 */
import t from 'tap'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const EVERY_SECOND = { type: 'interval', seconds: 1 } as const

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: a leader with execute: false plans; a worker with plan: false runs every run; the leader runs no handler`, async (t) => {
    const leader = await schedulerOn(db, t, 'roles_split', { execute: false, nodeId: 'web', nodeHeartbeatMs: 200 })
    const worker = await schedulerOn(db, t, 'roles_split', { plan: false, nodeId: 'worker', nodeHeartbeatMs: 200 }, leader.url)
    const calls = { web: 0, worker: 0 }
    // The same task on both: only the executing process may run it.
    leader.scheduler.registerTask('tick', async () => { calls.web++ })
    worker.scheduler.registerTask('tick', async () => { calls.worker++ })
    await worker.scheduler.start()
    await leader.scheduler.start()
    await waitUntil('the web process leads', () => leader.scheduler.status().isLeader)
    t.equal(worker.scheduler.status().isLeader, false, 'plan: false never takes the lock')
    await leader.scheduler.addJob({ id: 'tick', task: 'tick', trigger: EVERY_SECOND })
    const ran = await leader.scheduler.runJob('tick')
    t.equal(ran.status, 'queued', 'runJob on a process that does not execute queues the run')
    await waitUntil('three runs succeeded', async () => (await db.query(leader.url, "select 1 from scheduler_job_execution where status = 'success'")).length >= 3)
    const owners = await db.query<{ owner: string }>(leader.url, "select distinct owner from scheduler_job_execution where status = 'success'")
    t.same(owners.map((row) => row.owner), ['worker'], 'every run ran on the worker')
    t.equal(calls.web, 0, 'the execute: false process never ran a handler')
    t.ok(calls.worker >= 3, `the worker's handler ran (${calls.worker} calls)`)
    t.equal((await leader.scheduler.getJob('tick'))?.lastError, null, 'not flagged')
    const nodes = (await leader.scheduler.getStatus()).nodes
    t.same(nodes.map((node) => [node.nodeId, node.roles]), [['web', ['plan']], ['worker', ['execute']]], 'the registry lists each node\'s roles')
  })

  t.test(`${db.name}: a task registered only on a worker is not flagged by a leader that lacks it; with no worker it is`, async (t) => {
    const leader = await schedulerOn(db, t, 'roles_flag', { nodeId: 'leader', nodeHeartbeatMs: 200 })
    const worker = await schedulerOn(db, t, 'roles_flag', { plan: false, nodeId: 'worker', nodeHeartbeatMs: 200 }, leader.url)
    let calls = 0
    worker.scheduler.registerTask('report', async () => { calls++ })
    await worker.scheduler.start()
    await leader.scheduler.start()
    // The job is written by the worker (the leader has no handler, so it could not add it itself).
    await worker.scheduler.addJob({ id: 'report', task: 'report', trigger: EVERY_SECOND })
    await waitUntil('the worker ran it twice', () => calls >= 2)
    t.equal((await leader.scheduler.getJob('report'))?.lastError, null, 'not flagged while the worker is alive')
    const owners = await db.query<{ owner: string }>(leader.url, "select distinct owner from scheduler_job_execution where status = 'success'")
    t.same(owners.map((row) => row.owner), ['worker'])

    await worker.scheduler.shutdown()
    await waitUntil('flagged once no live process has the task', async () => (await leader.scheduler.getJob('report'))?.lastError !== null, 15_000)
    t.match((await leader.scheduler.getJob('report'))?.lastError, /task 'report' is not registered on any live process that runs jobs/)
  })

  t.test(`${db.name}: maxInstances counts queued runs: a full job records max_instances instead of queueing more`, async (t) => {
    const leader = await schedulerOn(db, t, 'roles_instances', { execute: false, nodeId: 'web' })
    leader.scheduler.registerTask('slow', async () => {})
    await leader.scheduler.start()
    await leader.scheduler.addJob({ id: 'slow', task: 'slow', trigger: { type: 'cron', expression: '0 0 1 1 *' }, maxInstances: 2 })
    const runs = [await leader.scheduler.runJob('slow'), await leader.scheduler.runJob('slow'), await leader.scheduler.runJob('slow')]
    t.same(runs.map((run) => run.status), ['queued', 'queued', 'max_instances'], 'nobody executes: two wait queued, the third is refused')
  })
}
