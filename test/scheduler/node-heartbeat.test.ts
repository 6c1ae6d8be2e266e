/**
 * The node heartbeat on its own, against the memory store with a hand-moved clock: it registers at
 * start, re-reads the tasks at every beat (a task registered after start shows at the next one),
 * reports a failed write as `scheduler:error` without throwing, and unregisters at stop even
 * when the store fails then (the row then ages out).
 */
import t from 'tap'
import { SchedulerEventBus } from '../../src/scheduler/events.js'
import { NodeHeartbeat, NODE_RETENTION_MS } from '../../src/scheduler/node-heartbeat.js'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'
import type { NodeRegistration } from '../../src/stores/job-store.js'
import { FakeClock } from '../helpers/clock.js'

const silent = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, fatal () {}, child () { return silent } }

/** A memory store whose node writes fail while `failing` is set. */
class FlakyStore extends MemoryJobStore {
  failing = false
  /** While set, node writes wait for it (a slow database). */
  gate: Promise<void> | null = null
  override async recordNode (node: NodeRegistration, retentionMs: number, now: Date | null): Promise<void> {
    if (this.gate !== null) await this.gate
    if (this.failing) throw new Error('the database is down')
    return super.recordNode(node, retentionMs, now)
  }

  override async removeNode (nodeId: string): Promise<boolean> {
    if (this.failing) throw new Error('the database is down')
    return super.removeNode(nodeId)
  }
}

function setup () {
  const clock = new FakeClock('2030-01-01T00:00:00Z')
  const store = new FlakyStore({ clock: clock.now })
  const events = new SchedulerEventBus(silent as never)
  const errors: Array<{ during: string, message: string }> = []
  events.on('scheduler:error', ({ error, during }) => { errors.push({ during, message: error.message }) })
  const tasks = ['a']
  const heartbeat = new NodeHeartbeat({
    store, events, log: silent as never, nodeId: 'n-1', tasks: () => tasks, lock: 'none', heartbeatMs: 3_600_000, statementTimeoutMs: 1000, clock: null
  })
  return { clock, store, errors, tasks, heartbeat }
}

t.test('registers at start and re-reads the tasks at every beat', async (t) => {
  const { clock, store, tasks, heartbeat } = setup()
  await heartbeat.start()
  t.teardown(async () => heartbeat.stop())
  t.match(await store.getNodes(1000, null), [{ nodeId: 'n-1', pid: process.pid, tasks: ['a'], roles: ['plan', 'execute'], lock: 'none' }])
  tasks.push('0-first')
  clock.advance(500)
  t.equal(await heartbeat.beat(), true)
  const [node] = await store.getNodes(1000, null)
  t.same(node?.tasks, ['0-first', 'a'], 'the task registered after start, sorted in')
  t.equal(node?.lastSeenAgoMs, 0, 'seen at this beat')
  t.equal(node?.startedAt.toISOString(), '2030-01-01T00:00:00.000Z', 'started at the first beat')
})

t.test('a failed heartbeat is reported, not thrown; the next one registers again', async (t) => {
  const { store, errors, heartbeat } = setup()
  store.failing = true
  await heartbeat.start()
  t.same(errors, [{ during: 'node heartbeat', message: 'the database is down' }])
  t.same(await store.getNodes(NODE_RETENTION_MS, null), [], 'nothing written')
  store.failing = false
  t.equal(await heartbeat.beat(), true)
  t.equal((await store.getNodes(1000, null)).length, 1)
  await heartbeat.stop()
  t.same(await store.getNodes(1000, null), [], 'stop unregisters')
})

t.test('a failed unregistration at stop is reported, not thrown', async (t) => {
  const { store, errors, heartbeat } = setup()
  await heartbeat.start()
  store.failing = true
  await heartbeat.stop()
  t.same(errors, [{ during: 'node unregistration', message: 'the database is down' }])
  store.failing = false
  t.equal((await store.getNodes(1000, null)).length, 1, 'the row stays, to age out')
})

t.test('stop waits for a heartbeat in flight, so the row is not written again after the removal', async (t) => {
  const { store, heartbeat } = setup()
  await heartbeat.start()
  let open: () => void = () => {}
  store.gate = new Promise((resolve) => { open = resolve })
  const beat = heartbeat.beat()
  const stopped = heartbeat.stop(5000)
  open()
  t.equal(await beat, true, 'the beat in flight was written')
  await stopped
  t.same(await store.getNodes(NODE_RETENTION_MS, null), [], 'and then removed')
})

t.test('stop waits for a hung heartbeat only within its budget', async (t) => {
  const { store, heartbeat } = setup()
  await heartbeat.start()
  store.gate = new Promise(() => {})
  void heartbeat.beat()
  // The budget's timer does not hold the process open (a host exiting need not wait for it); this test does.
  const keepAlive = setTimeout(() => {}, 10_000)
  await heartbeat.stop(50)
  clearTimeout(keepAlive)
  t.same(await store.getNodes(NODE_RETENTION_MS, null), [], 'removed after 50 ms, the hung beat still pending')
})
