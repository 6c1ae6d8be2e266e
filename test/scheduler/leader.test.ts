/**
 * Leader election: the PostgreSQL session advisory lock on a dedicated connection, failover when
 * the leader stops or loses its connection, `lock: 'none'`, and the file lock.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DEFAULT_LEADER_LOCK_KEY } from '../../src/locks/advisory-lock.js'
import { embeddedLockPath, lockEmbeddedDatabase } from '../../src/embedded.js'
import { FileLock } from '../../src/locks/file-lock.js'
import { query } from '../helpers/database.js'
import { schedulerOnPostgres } from '../helpers/scheduler.js'
import { waitUntil } from '../helpers/wait.js'

/** Sessions holding the scheduler's advisory lock in this database (advisory locks are per database). */
async function lockHolders (url: string): Promise<number[]> {
  const rows = await query<{ pid: number }>(url, `select pid from pg_locks where locktype = 'advisory' and granted
    and database = (select oid from pg_database where datname = current_database())
    and ((classid::bigint << 32) | objid::bigint) = $1`, [DEFAULT_LEADER_LOCK_KEY])
  return rows.map((row) => row.pid)
}

t.test('one leader among schedulers on one database; a standby takes over when it shuts down', async (t) => {
  const a = await schedulerOnPostgres(t, 'leader', { leaderRetryMs: 50 })
  const acquiredA = a.scheduler.once('leader:acquired')
  await a.scheduler.start()
  await acquiredA
  const b = await schedulerOnPostgres(t, 'leader', { leaderRetryMs: 50 }, a.url)
  await b.scheduler.start()
  t.equal((await lockHolders(a.url)).length, 1, 'PostgreSQL shows a single holder of the leader lock')
  t.equal(a.scheduler.status().isLeader, true)
  t.equal(b.scheduler.status().isLeader, false)

  const acquiredB = b.scheduler.once('leader:acquired')
  const lostA = a.scheduler.once('leader:lost')
  const stoppedAt = Date.now()
  await a.scheduler.shutdown()
  t.equal((await lostA).reason, 'released at shutdown')
  await acquiredB
  t.ok(Date.now() - stoppedAt < 2000, `standby took over in ${Date.now() - stoppedAt} ms`)
  t.equal(b.scheduler.status().isLeader, true)
})

t.test('a leader whose lock connection is killed stops leading at once; leadership is re-established', async (t) => {
  const a = await schedulerOnPostgres(t, 'leader_kill', { leaderRetryMs: 50 })
  const acquiredA = a.scheduler.once('leader:acquired')
  await a.scheduler.start()
  await acquiredA
  const b = await schedulerOnPostgres(t, 'leader_kill', { leaderRetryMs: 50 }, a.url)
  await b.scheduler.start()
  const [pid] = await lockHolders(a.url)
  const lostA = a.scheduler.once('leader:lost')
  const reacquired = Promise.race([a.scheduler.once('leader:acquired'), b.scheduler.once('leader:acquired')])
  await query(a.url, 'select pg_terminate_backend($1)', [pid])
  t.match((await lostA).reason, /terminat|connection/i)
  await reacquired
  await waitUntil('one holder of the lock again', async () => (await lockHolders(a.url)).length === 1)
  const leaders = [a.scheduler.status().isLeader, b.scheduler.status().isLeader].filter(Boolean)
  t.equal(leaders.length, 1, 'exactly one of the two leads (whichever tried first after the drop)')
  t.not((await lockHolders(a.url))[0], pid, 'the lock is held on a new connection')
})

t.test("lock: 'none' makes every scheduler a leader", async (t) => {
  const a = await schedulerOnPostgres(t, 'no_lock', { lock: 'none' })
  const b = await schedulerOnPostgres(t, 'no_lock', { lock: 'none' }, a.url)
  const both = Promise.all([a.scheduler.once('leader:acquired'), b.scheduler.once('leader:acquired')])
  await a.scheduler.start()
  await b.scheduler.start()
  await both
  t.equal(a.scheduler.status().isLeader && b.scheduler.status().isLeader, true)
  t.same(await lockHolders(a.url), [], 'no advisory lock is taken')
})

t.test('file lock: one live holder; re-entrant within a process; a stale file is taken over; only its creator removes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-lock-'))
  const path = join(dir, 'scheduler.lock')
  writeFileSync(path, JSON.stringify({ pid: process.ppid, owner: 'the test runner' }))
  const mine = new FileLock(path, 'mine')
  t.equal(await mine.tryAcquire(), false, 'held by another live process')
  t.match(await mine.describeLeader(), { nodeId: 'the test runner' })
  writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 12345, owner: 'dead' }))
  t.equal(await mine.tryAcquire(), true, 'a lock file whose pid is not running is stale')
  t.match(mine.holder(), { pid: process.pid, owner: 'mine' })
  const again = new FileLock(path, 'again')
  t.equal(await again.tryAcquire(), true, 'a file this process holds counts as held (re-entrant per process)')
  t.match(await again.describeLeader(), { nodeId: 'again' }, 'the leader is named by the lock that holds it here, not by the file it found')
  await again.release()
  t.ok(existsSync(path), 'released by a non-creator: the file stays')
  await mine.release()
  t.notOk(existsSync(path), 'released by its creator: removed')
})

t.test('an embedded data directory held by another process fails fast, naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-embedded-'))
  const dataDir = join(dir, 'data')
  writeFileSync(embeddedLockPath(dataDir), JSON.stringify({ pid: process.ppid, owner: 'example app, pid 4242' }))
  await t.rejects(lockEmbeddedDatabase(dataDir), {
    code: 'FST_SCHEDULER_LOCK_HELD',
    message: new RegExp(`held by process ${process.ppid} \\(example app, pid 4242\\); stop that process or point this one at another data directory`)
  })
  writeFileSync(embeddedLockPath(dataDir), JSON.stringify({ pid: 2 ** 22 + 12345, owner: 'dead' }))
  const lock = await lockEmbeddedDatabase(dataDir)
  t.match(lock.holder(), { pid: process.pid }, 'a dead holder is replaced')
  await lock.release()
})

t.test('a leader whose heartbeat goes stale is fenced: its lock connection is terminated and a standby takes over', async (t) => {
  // A renews its heartbeat once a minute, so to B (stale after 300 ms) it looks frozen.
  const a = await schedulerOnPostgres(t, 'leader_stale', { leaderHeartbeatMs: 60_000, leaderStaleMs: 130_000 })
  const acquiredA = a.scheduler.once('leader:acquired')
  await a.scheduler.start()
  await acquiredA
  const status = await a.scheduler.getStatus()
  t.match(status.leader, { nodeId: a.scheduler.nodeId }, 'getStatus names the leader from the heartbeat row')
  t.equal(status.lock, 'advisory')

  const b = await schedulerOnPostgres(t, 'leader_stale', { leaderHeartbeatMs: 100, leaderStaleMs: 300, leaderRetryMs: 50 }, a.url)
  const lostA = a.scheduler.once('leader:lost')
  const acquiredB = b.scheduler.once('leader:acquired')
  await b.scheduler.start()
  await acquiredB
  t.match((await lostA).reason, /terminat|connection|took over/i, 'the fenced leader learns it lost the lock')
  t.match((await b.scheduler.getStatus()).leader, { nodeId: b.scheduler.nodeId })

  // The fence: a claim on behalf of the old leader finds nothing, even with a job due.
  b.scheduler.registerTask('work', async () => {})
  await b.scheduler.addJob({ id: 'due', task: 'work', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
  await query(a.url, "update scheduler_job set next_run_time = now() - interval '1 second'")
  const claims = await a.scheduler.options.store.claimDueJobs({
    now: null, limit: 10, startLimit: 10, tasks: ['work'], owner: a.scheduler.nodeId, leaseMs: 1000,
    plan: () => { throw new Error('a fenced claim must not plan anything') },
    fence: { lockKey: a.scheduler.options.leaderLockKey, nodeId: a.scheduler.nodeId, backendPid: 0, staleMs: 130_000 }
  })
  t.same(claims, [], 'a claim fenced to the old leader claims nothing')
})

t.test('leaderStaleMs must exceed two heartbeats', async (t) => {
  await t.rejects(schedulerOnPostgres(t, 'leader_options', { leaderHeartbeatMs: 1000, leaderStaleMs: 1500 }), { message: /leaderStaleMs: must be more than twice leaderHeartbeatMs \(1000\), got 1500/ })
})
