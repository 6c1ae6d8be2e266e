/**
 * The leader fence inside the claim transaction, on the real PostgreSQL server. A leader frozen
 * past `leaderStaleMs` that thaws must claim nothing even in the window before a standby has
 * written its own `scheduler_leader` row: the row still names the thawed node, so the fence must
 * also check the lock session's backend pid and the heartbeat's age, not the node id alone.
 */
import t from 'tap'
import type { ClaimOptions, ClaimPlanner, LeaderFence } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { newJob } from './contract.js'

const url = await freshDatabase(t, 'leader_fence')
const orm = await openOrm(t, url)
const store = new MikroOrmJobStore(orm)
await store.initialize()

const KEY = 4242
const NODE = 'node-leader'
const STALE_MS = 2000
const BACKEND_PID = 31_337

const plan: ClaimPlanner = (job) => {
  const due = job.nextRunTime as Date
  return { run: [due], missed: [], maxInstances: [], nextRunTime: new Date(due.getTime() + 60_000), coalesced: 0 }
}

function claimOptions (fence: LeaderFence): ClaimOptions {
  return { now: null, limit: 10, startLimit: 10, tasks: ['task.a'], owner: NODE, leaseMs: 30_000, plan, fence }
}

/** Resets the job to due and writes the leader row as given; returns nothing. */
async function stage (row: { nodeId: string, backendPid: number, heartbeatAgeMs: number }): Promise<void> {
  await query(url, 'delete from scheduler_job_execution')
  await query(url, 'delete from scheduler_job')
  await store.addJob(newJob('fenced', { nextRunTime: new Date(Date.now() - 1000) }))
  await query(url, `insert into scheduler_leader (lock_key, node_id, backend_pid, acquired_at, heartbeat_at)
    values ($1, $2, $3, now() - interval '1 hour', now() - make_interval(secs => $4 / 1000.0))
    on conflict (lock_key) do update set node_id = excluded.node_id, backend_pid = excluded.backend_pid, heartbeat_at = excluded.heartbeat_at`,
  [KEY, row.nodeId, row.backendPid, row.heartbeatAgeMs])
}

const fence: LeaderFence = { lockKey: KEY, nodeId: NODE, backendPid: BACKEND_PID, staleMs: STALE_MS }

t.test('a fresh row naming this node and its lock session: the claim goes ahead', async (t) => {
  await stage({ nodeId: NODE, backendPid: BACKEND_PID, heartbeatAgeMs: 0 })
  const claims = await store.claimDueJobs(claimOptions(fence))
  t.same(claims.map((claim) => claim.job.id), ['fenced'])
  t.equal((await query(url, 'select * from scheduler_job_execution')).length, 1)
})

t.test('a thawed leader (its own row, heartbeat older than leaderStaleMs): claims nothing', async (t) => {
  await stage({ nodeId: NODE, backendPid: BACKEND_PID, heartbeatAgeMs: STALE_MS * 3 })
  const claims = await store.claimDueJobs(claimOptions(fence))
  t.same(claims, [], 'nothing claimed')
  t.same(await query(url, 'select * from scheduler_job_execution'), [], 'no execution row written')
  const [job] = await query<{ next_run_time: Date }>(url, "select next_run_time from scheduler_job where id = 'fenced'")
  t.ok((job?.next_run_time as Date).getTime() < Date.now(), 'the job was not advanced')
})

t.test('the row names this node but another backend (a lock session that is gone): claims nothing', async (t) => {
  await stage({ nodeId: NODE, backendPid: BACKEND_PID + 1, heartbeatAgeMs: 0 })
  t.same(await store.claimDueJobs(claimOptions(fence)), [])
  t.same(await query(url, 'select * from scheduler_job_execution'), [])
})

t.test('the row names another node: claims nothing', async (t) => {
  await stage({ nodeId: 'node-standby', backendPid: BACKEND_PID, heartbeatAgeMs: 0 })
  t.same(await store.claimDueJobs(claimOptions(fence)), [])
})
