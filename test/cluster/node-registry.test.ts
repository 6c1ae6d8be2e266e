/**
 * The node registry with real processes (issue #16's `status` lists every live process, not only
 * those running executions): two idle processes on one database, with different tasks, are both
 * listed with the pid the OS gave them (`ChildProcess.pid`, not their own report), this host, and
 * the tasks the test gave them; one killed with SIGKILL stays in the table but drops out of the
 * live list once three heartbeats have passed; one stopped with SIGTERM deletes its row. Once per
 * server database (`SERVER_DATABASES`); the live list is read through the store on the test's own ORM.
 */
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { NODE_STALE_HEARTBEATS } from '../../src/scheduler/node-heartbeat.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { pollUntil, startProcess, stopProcess, waitForReport, type Worker } from './processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/node-worker.ts', import.meta.url))
const HEARTBEAT_MS = 300

// Once per server, with real processes, on a shared 2-core machine: more than the default file timeout.
t.setTimeout(6 * 60_000)

for (const db of SERVER_DATABASES) {
  t.test(`on ${db.name}: two idle processes are listed with their pid, host and tasks; a killed one drops out, a stopped one leaves`, async (t) => {
    const url = await db.fresh(t, 'node_registry')
    const start = (name: string, tasks: string[]): Worker => startProcess(t, name, [...process.execArgv, WORKER], {
      ...process.env, DATABASE_URL: url, TASKS: tasks.join(','), NODE_HEARTBEAT_MS: String(HEARTBEAT_MS)
    })
    const a = start('worker a', ['report', 'email'])
    const b = start('worker b', ['cleanup'])
    const [readyA, readyB] = await Promise.all([a, b].map(async (worker) => waitForReport(worker, 'ready', (r) => r.event === 'ready', 120_000)))
    const idA = String(readyA?.nodeId)
    const idB = String(readyB?.nodeId)

    const store = new MikroOrmJobStore(await db.openOrm(t, url), { install: 'migrations' })
    const live = async (): Promise<string[]> => (await store.getNodes(NODE_STALE_HEARTBEATS, null)).map((node) => node.nodeId)

    const nodes = await pollUntil('both processes listed', async () => {
      const listed = await store.getNodes(NODE_STALE_HEARTBEATS, null)
      return listed.length === 2 ? listed : undefined
    })
    t.same(nodes.map((node) => node.nodeId), [idA, idB].sort(), 'both node ids, ordered')
    const byId = new Map(nodes.map((node) => [node.nodeId, node]))
    t.equal(byId.get(idA)?.pid, a.child.pid, 'a: the pid the OS gave it')
    t.equal(byId.get(idB)?.pid, b.child.pid, 'b: the pid the OS gave it')
    t.equal(byId.get(idA)?.host, hostname())
    t.same(byId.get(idA)?.tasks, ['email', 'report'], 'a: its tasks, sorted')
    t.same(byId.get(idB)?.tasks, ['cleanup'], 'b: its tasks')
    t.same(byId.get(idA)?.roles, ['plan', 'execute'])
    t.equal(byId.get(idA)?.lock, 'advisory')
    t.equal(byId.get(idA)?.heartbeatMs, HEARTBEAT_MS, 'its own heartbeat interval')
    t.equal(byId.get(idA)?.running, 0, 'no job: nothing running')

    // A heartbeat moves last_seen_at (read from the table directly).
    const seen = async (id: string): Promise<number | undefined> => {
      const [row] = await db.query<{ last_seen_at: Date }>(url, 'select last_seen_at from scheduler_node where node_id = ?', [id])
      return row?.last_seen_at.getTime()
    }
    const firstSeen = await seen(idA) as number
    await pollUntil('a heartbeat of a', async () => ((await seen(idA)) ?? 0) > firstSeen)
    t.pass('a\'s last_seen_at moved on')

    // SIGKILL: no goodbye; the row stays and stops being live after three heartbeats.
    b.child.kill('SIGKILL')
    await b.exited
    await pollUntil('b no longer live', async () => !(await live()).includes(idB))
    t.same(await live(), [idA], 'only a is live')
    t.ok((await seen(idB)) !== undefined, 'b\'s row is kept (pruned after an hour)')

    // SIGTERM: a clean shutdown deletes the row.
    const exit = await stopProcess(a)
    t.equal(exit.code, 0, 'a exits 0')
    t.equal(await seen(idA), undefined, 'a\'s row is gone')
    t.same(await live(), [])
    t.same(a.reports.filter((r) => r.event === 'scheduler-error'), [], 'no scheduler error in a')
  })
}
