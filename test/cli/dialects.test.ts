/**
 * What the command line does differently per database, checked on the real ones:
 * - SQLite: the CLI is a second process on a file a running app owns (its lock file). Reads work
 *   beside it (WAL); writes are made through the scheduler's API and the app sees them at its next
 *   poll, which the output says; `status` names the app, its pid and the lock file as leader.
 * - PostgreSQL and MariaDB: `status` shows as leader only the heartbeat row whose session holds
 *   the lock right now (a live backend; on MariaDB the connection `IS_USED_LOCK` names), not a row
 *   left by a process that died.
 */
import t from 'tap'
import { buildPackage } from '../helpers/build.js'
import { CLI_DATABASES, SQLITE, cli, sqliteFileOf } from '../helpers/cli.js'
import { embeddedLockPath } from '../../src/embedded.js'
import { DEFAULT_LEADER_LOCK_KEY } from '../../src/locks/advisory-lock.js'
import { waitUntil } from '../helpers/wait.js'

t.before(buildPackage)
t.setTimeout(10 * 60_000)

/** A boolean column as each database returns it. */
const bool = (value: unknown): boolean => value === true || Number(value) === 1

t.test('SQLite: writes from the CLI to a file a running app owns, and status', async (t) => {
  const url = await SQLITE.fresh(t, 'owner')
  const file = sqliteFileOf(url)
  const on = ['--database-url', url]
  const app = await SQLITE.app(t, url)
  const ran: number[] = []
  app.registerTask('report', (ctx) => { ran.push(ctx.executionId) })
  const leader = app.once('leader:acquired')
  await app.start()
  await leader
  await app.addJob({ id: 'nightly', task: 'report', trigger: { type: 'cron', expression: '0 3 * * *' } })

  const status = await cli(['status', '--json', ...on])
  t.equal(status.code, 0, status.stderr)
  t.match(JSON.parse(status.stdout).leader, { nodeId: app.nodeId, pid: process.pid, lockFile: embeddedLockPath(file), heartbeatAt: null }, 'the leader is the process holding the file lock')
  const statusText = (await cli(['status', ...on])).stdout
  t.match(statusText, new RegExp(`leader pid:\\s+${process.pid} on \\S+\\nleader lock:\\s+${embeddedLockPath(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`))
  t.equal((await cli(['status', '--leader-lock-key', '5', ...on])).code, 2, 'SQLite has no leader lock key')

  const paused = await cli(['jobs', 'pause', 'nightly', ...on])
  t.equal(paused.code, 0, paused.stderr)
  t.match(paused.stdout, new RegExp(`^paused job 'nightly'; next run time \\S+\\nnote: .*app\\.db belongs to the running process ${process.pid} \\(${app.nodeId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); it sees this change at its next poll .*wake-ups do not cross processes\\n$`))
  t.same((await SQLITE.query(url, "SELECT paused FROM scheduler_job WHERE id = 'nightly'")).map((row) => bool(row.paused)), [true], 'the row is paused')
  t.equal((await app.getJob('nightly'))?.paused, true, 'and the app reads it')

  const queued = await cli(['jobs', 'run', 'nightly', '--json', ...on])
  t.equal(queued.code, 0, queued.stderr)
  const { execution, note } = JSON.parse(queued.stdout) as { execution: { id: number, status: string }, note: string }
  t.equal(execution.status, 'queued')
  t.match(note, /sees this change at its next poll/, '--json carries the note')
  await waitUntil('the app to run the run queued by the CLI at its next poll', () => ran.includes(execution.id), 30_000)
  t.same(ran, [execution.id], 'the app ran it, once')
  await waitUntil('its success in the file', async () => (await SQLITE.query<{ status: string }>(url, 'SELECT status FROM scheduler_job_execution WHERE id = ?', [execution.id]))[0]?.status === 'success', 30_000)

  // The app stops: its lock goes, so no note, and no leader.
  await app.shutdown()
  const resumed = await cli(['jobs', 'resume', 'nightly', ...on])
  t.equal(resumed.code, 0, resumed.stderr)
  t.notMatch(resumed.stdout, /note:/, 'no app owns the file: no note')
  t.same((await SQLITE.query(url, "SELECT paused FROM scheduler_job WHERE id = 'nightly'")).map((row) => bool(row.paused)), [false])
  const after = JSON.parse((await cli(['status', '--json', ...on])).stdout) as { leader: unknown }
  t.equal(after.leader, null, 'no live process holds the lock: no leader')
  t.match((await cli(['status', ...on])).stdout, /leader:\s+none \(no live process holds the database file's lock/)
})

for (const db of CLI_DATABASES.filter((each) => each !== SQLITE)) {
  t.test(`${db.name}: a heartbeat row whose session holds no lock is no leader`, async (t) => {
    const url = await db.fresh(t, 'cli_leader')
    t.equal((await cli(['schema', 'install', '--database-url', url])).code, 0)
    const now = new Date()
    await db.query(url, 'INSERT INTO scheduler_leader (lock_key, node_id, backend_pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)',
      [DEFAULT_LEADER_LOCK_KEY, 'died-an-instant-ago', 999_999, now, now])
    const status = await cli(['status', '--json', '--database-url', url])
    t.equal(status.code, 0, status.stderr)
    t.equal(JSON.parse(status.stdout).leader, null, 'a fresh heartbeat alone does not make a leader')

    const app = await db.app(t, url)
    app.registerTask('noop', () => {})
    const leader = app.once('leader:acquired')
    await app.start()
    await leader
    const led = JSON.parse((await cli(['status', '--json', '--database-url', url])).stdout) as { leader: { nodeId: string, heartbeatAgeMs: number } | null }
    t.equal(led.leader?.nodeId, app.nodeId, 'the app holding the lock leads')
    t.ok(led.leader !== null && led.leader.heartbeatAgeMs >= 0 && led.leader.heartbeatAgeMs < 60_000, 'with a recent heartbeat')
    const other = JSON.parse((await cli(['status', '--json', '--leader-lock-key', '42', '--database-url', url])).stdout) as { leader: unknown }
    t.equal(other.leader, null, 'another key has no leader')
  })
}
