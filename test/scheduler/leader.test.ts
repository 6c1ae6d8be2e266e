/**
 * Leader election: the lock on a dedicated connection (PostgreSQL's session advisory lock,
 * MariaDB's `GET_LOCK`: `lock: 'advisory'` on both), failover when the leader stops or loses its
 * connection, the fence of a stale leader, `lock: 'none'`, and the file lock. Who holds the lock is
 * read from the server itself (`pg_locks`, `IS_USED_LOCK`).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DEFAULT_LEADER_LOCK_KEY } from '../../src/locks/advisory-lock.js'
import { embeddedLockPath, lockEmbeddedDatabase } from '../../src/embedded.js'
import { FileLock } from '../../src/locks/file-lock.js'
import { schedulerOn, schedulerOnPostgres } from '../helpers/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

/**
 * The sessions holding the scheduler's leader lock in this database: PostgreSQL's advisory locks
 * are per database; MariaDB's `GET_LOCK` names are server-wide, so the scheduler's name includes
 * the database (src/locks/get-lock.ts).
 */
const LOCK_HOLDERS = {
  postgresql: `select pid as holder from pg_locks where locktype = 'advisory' and granted
    and database = (select oid from pg_database where datname = current_database())
    and ((classid::bigint << 32) | objid::bigint) = ?`,
  mariadb: "select IS_USED_LOCK(CONCAT('fms_leader_', SHA1(CONCAT(DATABASE(), ':', ?)))) as holder"
}
/** Ends another session, as an operator or a network would. */
const KILL_SESSION = { postgresql: 'select pg_terminate_backend(?)', mariadb: 'KILL CONNECTION ?' }

async function lockHolders (db: TestDatabase, url: string): Promise<number[]> {
  const rows = await db.query<{ holder: number | string | null }>(url, LOCK_HOLDERS[db.name], [String(DEFAULT_LEADER_LOCK_KEY)])
  return rows.filter((row) => row.holder !== null).map((row) => Number(row.holder))
}

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

t.test('leaderStaleMs must exceed two heartbeats', async (t) => {
  await t.rejects(schedulerOnPostgres(t, 'leader_options', { leaderHeartbeatMs: 1000, leaderStaleMs: 1500 }), { message: /leaderStaleMs: must be more than twice leaderHeartbeatMs \(1000\), got 1500/ })
})

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: one leader among schedulers on one database; a standby takes over when it shuts down`, async (t) => {
    const a = await schedulerOn(db, t, 'leader', { leaderRetryMs: 50 })
    const acquiredA = a.scheduler.once('leader:acquired')
    await a.scheduler.start()
    await acquiredA
    const b = await schedulerOn(db, t, 'leader', { leaderRetryMs: 50 }, a.url)
    await b.scheduler.start()
    t.equal((await lockHolders(db, a.url)).length, 1, 'the server shows a single holder of the leader lock')
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

  t.test(`${db.name}: a leader whose lock connection is killed stops leading at once; leadership is re-established`, async (t) => {
    const a = await schedulerOn(db, t, 'leader_kill', { leaderRetryMs: 50 })
    const acquiredA = a.scheduler.once('leader:acquired')
    await a.scheduler.start()
    await acquiredA
    const b = await schedulerOn(db, t, 'leader_kill', { leaderRetryMs: 50 }, a.url)
    await b.scheduler.start()
    const [pid] = await lockHolders(db, a.url)
    t.ok(pid !== undefined, 'the lock is held')
    const lostA = a.scheduler.once('leader:lost')
    const reacquired = Promise.race([a.scheduler.once('leader:acquired'), b.scheduler.once('leader:acquired')])
    await db.query(a.url, KILL_SESSION[db.name], [pid])
    t.match((await lostA).reason, { postgresql: /terminat|connection/i, mariadb: /connection|closed|lost|terminat/i }[db.name])
    await reacquired
    await waitUntil('one holder of the lock again', async () => (await lockHolders(db, a.url)).length === 1)
    const leaders = [a.scheduler.status().isLeader, b.scheduler.status().isLeader].filter(Boolean)
    t.equal(leaders.length, 1, 'exactly one of the two leads (whichever tried first after the drop)')
    t.not((await lockHolders(db, a.url))[0], pid, 'the lock is held on a new connection')
  })

  t.test(`${db.name}: lock: 'none' makes every scheduler a leader`, async (t) => {
    const a = await schedulerOn(db, t, 'no_lock', { lock: 'none' })
    const b = await schedulerOn(db, t, 'no_lock', { lock: 'none' }, a.url)
    const both = Promise.all([a.scheduler.once('leader:acquired'), b.scheduler.once('leader:acquired')])
    await a.scheduler.start()
    await b.scheduler.start()
    await both
    t.equal(a.scheduler.status().isLeader && b.scheduler.status().isLeader, true)
    t.same(await lockHolders(db, a.url), [], 'no advisory lock is taken')
  })

  t.test(`${db.name}: a leader whose heartbeat goes stale is fenced: its lock connection is terminated and a standby takes over`, async (t) => {
    // A renews its heartbeat once a minute, so to B (stale after 300 ms) it looks frozen.
    const a = await schedulerOn(db, t, 'leader_stale', { leaderHeartbeatMs: 60_000, leaderStaleMs: 130_000 })
    const acquiredA = a.scheduler.once('leader:acquired')
    await a.scheduler.start()
    await acquiredA
    const status = await a.scheduler.getStatus()
    t.match(status.leader, { nodeId: a.scheduler.nodeId }, 'getStatus names the leader from the heartbeat row')
    t.equal(status.lock, 'advisory', "lock 'auto' picks the advisory lock (GET_LOCK on MariaDB)")
    const [holderA] = await lockHolders(db, a.url)

    const b = await schedulerOn(db, t, 'leader_stale', { leaderHeartbeatMs: 100, leaderStaleMs: 300, leaderRetryMs: 50 }, a.url)
    const lostA = a.scheduler.once('leader:lost')
    const acquiredB = b.scheduler.once('leader:acquired')
    await b.scheduler.start()
    await acquiredB
    t.match((await lostA).reason, { postgresql: /terminat|connection|took over/i, mariadb: /connection|closed|lost|took over/i }[db.name], 'the fenced leader learns it lost the lock')
    t.match((await b.scheduler.getStatus()).leader, { nodeId: b.scheduler.nodeId })
    t.not((await lockHolders(db, a.url))[0], holderA, 'the lock moved to another connection')

    // The fence: a claim on behalf of the old leader finds nothing, even with a job due.
    b.scheduler.registerTask('work', async () => {})
    await b.scheduler.addJob({ id: 'due', task: 'work', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
    const secondAgo = { postgresql: "now() - interval '1 second'", mariadb: 'UTC_TIMESTAMP(3) - INTERVAL 1 SECOND' }[db.name]
    await db.query(a.url, `update scheduler_job set next_run_time = ${secondAgo}`)
    const claims = await a.scheduler.options.store.claimDueJobs({
      now: null, limit: 10, startLimit: 10, tasks: ['work'], owner: a.scheduler.nodeId, leaseMs: 1000,
      plan: () => { throw new Error('a fenced claim must not plan anything') },
      fence: { lockKey: a.scheduler.options.leaderLockKey, nodeId: a.scheduler.nodeId, backendPid: Number(holderA), staleMs: 130_000 }
    })
    t.same(claims, [], 'a claim fenced to the old leader claims nothing')
  })
}
