/**
 * Network faults between worker processes and their database, staged with a TCP fault proxy per
 * connection kind and per worker (`test/helpers/fault-proxy.ts`): each worker's pool goes through
 * one proxy, its dedicated session (advisory lock, LISTEN; the `sessionUrl` option) through another.
 *
 * The leader's pool blackholed (half-open: sockets stay open, nothing arrives) while its lock
 * connection stays healthy: its loop hangs inside a claim, but its heartbeat would go on on the
 * healthy connection. The heartbeat proves loop progress instead, so the stuck leader releases
 * and another process is claiming within `leaderStaleMs` + 2 s of the blackhole.
 *
 * Every connection of every worker reset (RST) every 5 s for a minute: occurrences keep starting in
 * every window between two resets, and none starts twice.
 *
 * The blackhole test runs once per server (PostgreSQL, MariaDB, where deadlines are the client's
 * alone); the resets test on PostgreSQL only (see there).
 */
import t from 'tap'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { POSTGRESQL, SERVER_DATABASES } from '../helpers/test-databases.js'
import { START, assertLedger, duplicateRows, duplicateStarts, executions, leaderOf, ready } from './fixtures/cluster.js'
import { FAULT_OPTIONS, firstStartedBy, startProxiedWorker, type ProxiedWorker } from './fixtures/proxied.js'

// Three tests of real processes behind fault proxies, a minute of faults each: more than tap's
// 120 s per file (.taprc) when the machine is busy (one fresh-clone run took 75 s for the first test alone).
t.setTimeout(9 * 60_000)

const ALL_RUN = { id: 'all-run', trigger: { type: 'interval', seconds: 1, startDate: START }, coalesce: false, misfireGraceTime: null, maxInstances: 5 }

for (const db of SERVER_DATABASES) t.test(`the leader's pool blackholed from ${db.name}, its lock connection healthy: another process claims within leaderStaleMs + 2 s`, async (t) => {
  const url = await db.fresh(t, 'net_pool_blackhole')
  const nodes = await Promise.all([1, 2].map(async (n) => startProxiedWorker(t, `worker ${n}`, url, [ALL_RUN])))
  await Promise.all(nodes.map(async (node) => ready(node.worker, 400_000)))
  const leader = await leaderOf(nodes.map((node) => node.worker))
  const leaderNode = nodes.find((node) => node.worker === leader) as ProxiedWorker
  await pollUntil('the leader ran 2 occurrences', async () => reportsOf(leader, 'executed').length >= 2, 30_000)

  const blackholedAt = Date.now()
  leaderNode.pool.blackhole()
  const others = nodes.filter((node) => node !== leaderNode).map((node) => node.worker.nodeId)
  const bound = FAULT_OPTIONS.leaderStaleMs + 2000
  const takenOver = await pollUntil('another process starts an execution', async () => firstStartedBy(url, others, blackholedAt), bound + 20_000)
  t.ok(takenOver - blackholedAt <= bound, `another process started an execution ${takenOver - blackholedAt} ms after the blackhole (bound ${bound} ms)`)
  await pollUntil('3 more occurrences by the others', async () => (await executions(url, 'all-run'))
    .filter((row) => row.owner !== leader.nodeId && row.status === 'success' && row.run_time.getTime() > blackholedAt).length >= 3, 30_000)

  leaderNode.pool.heal()
  for (const node of nodes) {
    t.same(await stopProcess(node.worker, 'SIGTERM', 60_000), { code: 0, signal: null }, `${node.worker.name} shut down cleanly`, { output: tail(node.worker) })
  }
  t.same(await duplicateRows(url), [])
  t.same(duplicateStarts(nodes.map((node) => node.worker)), [], 'no handler started twice for one occurrence')
  await assertLedger(t, url)
})

// PostgreSQL only, for CI time (a minute of resets per server): on MariaDB the session's loss and
// reconnection (GET_LOCK re-contended, the change counter polled again) is network-partition.test.ts's heal.
t.test('every connection of every worker reset every 5 s for a minute: the scheduler keeps firing', async (t) => {
  const url = await POSTGRESQL.fresh(t, 'net_resets')
  const nodes = await Promise.all([1, 2].map(async (n) => startProxiedWorker(t, `worker ${n}`, url, [ALL_RUN])))
  await Promise.all(nodes.map(async (node) => ready(node.worker, 400_000)))
  await leaderOf(nodes.map((node) => node.worker))
  const RESETS = 12
  const windows: number[] = []
  for (let i = 0; i < RESETS; i++) {
    for (const node of nodes) { node.pool.resetAll(); node.session.resetAll() }
    const resetAt = Date.now()
    // Until the next reset (5 s later by the test's own clock), count what ran in this window.
    await pollUntil('the next reset is due', async () => Date.now() - resetAt >= 5000, 10_000)
    const ran = (await executions(url, 'all-run')).filter((row) => row.started_at !== null && row.started_at.getTime() >= resetAt && row.started_at.getTime() < resetAt + 5000)
    windows.push(ran.length)
  }
  t.ok(windows.every((n) => n > 0), `occurrences started in every 5 s window between resets: ${windows.join(', ')}`)
  t.ok(nodes.reduce((n, node) => n + node.pool.stats().reset + node.session.stats().reset, 0) > RESETS, 'connections were really reset')
  for (const node of nodes) {
    t.same(await stopProcess(node.worker, 'SIGTERM', 60_000), { code: 0, signal: null }, `${node.worker.name} shut down cleanly`, { output: tail(node.worker) })
  }
  t.same(await duplicateRows(url), [])
  t.same(duplicateStarts(nodes.map((node) => node.worker)), [], 'no handler started twice for one occurrence')
  await assertLedger(t, url)
})
