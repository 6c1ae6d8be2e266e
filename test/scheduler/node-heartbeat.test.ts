/**
 * The node heartbeat on its own, against the memory store with a hand-moved clock: it registers at
 * start, re-reads the tasks at every beat (a task registered after start shows at the next one),
 * reports a failed write as `scheduler:error` without throwing, and unregisters at stop even
 * when the store fails then (the row then ages out).
 */
import t from 'tap'
import { SchedulerEventBus } from '../../src/scheduler/events.js'
import { NodeHeartbeat, NODE_STALE_HEARTBEATS } from '../../src/scheduler/node-heartbeat.js'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'
import type { NodeRegistration, NodeRetention, QueryOptions } from '../../src/stores/job-store.js'
import { FakeClock } from '../helpers/clock.js'

const silent = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, fatal () {}, child () { return silent } }

/** A memory store whose node writes fail while `failing` is set. */
class FlakyStore extends MemoryJobStore {
  failing = false
  /** While set, node writes wait for it (a slow database). */
  gate: Promise<void> | null = null
  /** While set, node writes fail with this PostgreSQL code. */
  code: string | null = null
  reinstalled = 0
  override async recordNode (node: NodeRegistration, retention: NodeRetention, now: Date | null): Promise<void> {
    if (this.gate !== null) await this.gate
    this.#fail()
    return super.recordNode(node, retention, now)
  }

  override async removeNode (nodeId: string, _options?: QueryOptions): Promise<boolean> {
    if (this.removalGate !== null) await this.removalGate
    this.#fail()
    return super.removeNode(nodeId)
  }

  /** While set, removals wait for it. */
  removalGate: Promise<void> | null = null

  async recoverMissingTable (): Promise<string> {
    this.reinstalled++
    this.code = null
    return 'installed the tables again'
  }

  #fail (): void {
    if (this.code !== null) throw Object.assign(new Error('relation "scheduler_node" does not exist'), { code: this.code })
    if (this.failing) throw new Error('the database is down')
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
    store, events, log: silent as never, nodeId: 'n-1', tasks: () => tasks, roles: ['plan', 'execute'], lock: 'none', heartbeatMs: 3_600_000, statementTimeoutMs: 1000, clock: null
  })
  return { clock, store, errors, tasks, heartbeat }
}

t.test('registers at start and re-reads the tasks at every beat', async (t) => {
  const { clock, store, tasks, heartbeat } = setup()
  await heartbeat.start()
  t.teardown(async () => heartbeat.stop())
  t.match(await store.getNodes(NODE_STALE_HEARTBEATS, null), [{ nodeId: 'n-1', pid: process.pid, tasks: ['a'], roles: ['plan', 'execute'], lock: 'none', heartbeatMs: 3_600_000 }])
  tasks.push('0-first')
  clock.advance(500)
  t.equal(await heartbeat.beat(), true)
  const [node] = await store.getNodes(NODE_STALE_HEARTBEATS, null)
  t.same(node?.tasks, ['0-first', 'a'], 'the task registered after start, sorted in')
  t.equal(node?.lastSeenAgoMs, 0, 'seen at this beat')
  t.equal(node?.startedAt.toISOString(), '2030-01-01T00:00:00.000Z', 'started at the first beat')
})

t.test('a failed heartbeat is reported, not thrown; the next one registers again', async (t) => {
  const { store, errors, heartbeat } = setup()
  store.failing = true
  await heartbeat.start()
  t.same(errors, [{ during: 'node heartbeat', message: 'the database is down' }])
  t.same(await store.getNodes(NODE_STALE_HEARTBEATS, null), [], 'nothing written')
  store.failing = false
  t.equal(await heartbeat.beat(), true)
  t.equal((await store.getNodes(NODE_STALE_HEARTBEATS, null)).length, 1)
  await heartbeat.stop()
  t.same(await store.getNodes(NODE_STALE_HEARTBEATS, null), [], 'stop unregisters')
})

t.test('a failed unregistration at stop is reported, not thrown', async (t) => {
  const { store, errors, heartbeat } = setup()
  await heartbeat.start()
  store.failing = true
  await heartbeat.stop()
  t.same(errors, [{ during: 'node unregistration', message: 'the database is down' }])
  store.failing = false
  t.equal((await store.getNodes(NODE_STALE_HEARTBEATS, null)).length, 1, 'the row stays, to age out')
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
  t.same(await store.getNodes(NODE_STALE_HEARTBEATS, null), [], 'and then removed')
})

t.test('stop gives up on a hung heartbeat after its budget, and removes the row again when the beat lands later', async (t) => {
  const { store, heartbeat } = setup()
  await heartbeat.start()
  let open: () => void = () => {}
  store.gate = new Promise((resolve) => { open = resolve })
  const beat = heartbeat.beat()
  // The budget's timer does not hold the process open (a host exiting need not wait for it); this test does.
  const keepAlive = setTimeout(() => {}, 10_000)
  await heartbeat.stop(50)
  clearTimeout(keepAlive)
  t.same(await store.getNodes(NODE_STALE_HEARTBEATS, null), [], 'removed after 50 ms, the beat still pending')
  store.gate = null
  open()
  t.equal(await beat, true, 'the late beat wrote the row')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(await store.getNodes(NODE_STALE_HEARTBEATS, null), [], 'and the row was removed again')
  t.equal(await heartbeat.beat(), false, 'a stopped heartbeat does not beat')
})

t.test('stop does not wait for a hung removal past its budget', async (t) => {
  const { store, heartbeat } = setup()
  await heartbeat.start()
  store.removalGate = new Promise(() => {})
  const keepAlive = setTimeout(() => {}, 10_000)
  const startedAt = performance.now()
  await heartbeat.stop(50)
  clearTimeout(keepAlive)
  t.ok(performance.now() - startedAt < 5000, 'stop returned (after its 50 ms budget, not the removal)')
})

t.test('a heartbeat that finds the table gone asks the store to install it again', async (t) => {
  const { store, errors, heartbeat } = setup()
  store.code = '42P01'
  t.equal(await heartbeat.start(), false)
  t.equal(store.reinstalled, 1, 'recoverMissingTable was called')
  t.same(errors, [{ during: 'node heartbeat', message: 'relation "scheduler_node" does not exist' }])
  t.equal(await heartbeat.beat(), true, 'the next beat writes')
  await heartbeat.stop()
})
