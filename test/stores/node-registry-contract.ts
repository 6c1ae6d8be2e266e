/**
 * The node registry part of the JobStore contract (`recordNode`, `removeNode`, `getNodes`), run
 * against every store (memory.test.ts, pglite.test.ts, postgresql.test.ts). Heartbeats are written
 * at explicit 2030 times, so every expected time, age and liveness below is arithmetic on those
 * times; running counts come from executions started through the store's own run-now.
 */
import type { ExecutionRecord, NodeRegistration } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob } from './contract.js'

const HOUR_MS = 3_600_000

const node = (nodeId: string, overrides: Partial<NodeRegistration> = {}): NodeRegistration =>
  ({ nodeId, host: 'host-1', pid: 4242, tasks: ['report', 'email'], roles: ['plan', 'execute'], lock: 'advisory', ...overrides })

export function nodeRegistryContract (t: TapTest, makeStore: MakeStore): void {
  async function open (t: TapTest) {
    const { store } = await makeStore(t)
    await store.initialize()
    t.teardown(async () => store.close())
    return store
  }

  t.test('recordNode registers a node; a later heartbeat moves lastSeenAt, keeps startedAt and replaces tasks', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-1'), HOUR_MS, at(0))
    t.same(await store.getNodes(15_000, at(5)), [{
      ...node('n-1'), startedAt: at(0), lastSeenAt: at(0), lastSeenAgoMs: 5000, running: 0
    }], 'registered at 0 s, seen 5 s ago at 5 s')
    await store.recordNode(node('n-1', { tasks: ['report'], pid: 4343 }), HOUR_MS, at(10))
    const [again] = await store.getNodes(15_000, at(12))
    t.same(again?.startedAt, at(0), 'startedAt is the first heartbeat')
    t.same(again?.lastSeenAt, at(10), 'lastSeenAt is the last heartbeat')
    t.equal(again?.lastSeenAgoMs, 2000)
    t.same(again?.tasks, ['report'], 'tasks are replaced, not merged')
    t.equal(again?.pid, 4343)
  })

  t.test('getNodes lists the nodes seen within staleMs, by node id', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-b'), HOUR_MS, at(0))
    await store.recordNode(node('n-a', { roles: ['execute'], lock: 'none' }), HOUR_MS, at(20))
    await store.recordNode(node('n-c'), HOUR_MS, at(30))
    t.same((await store.getNodes(15_000, at(30))).map((n) => n.nodeId), ['n-a', 'n-c'], 'n-b, unseen for 30 s, is not live with a 15 s window')
    t.same((await store.getNodes(30_000, at(30))).map((n) => n.nodeId), ['n-a', 'n-b', 'n-c'], 'seen exactly staleMs ago still counts')
    const [a] = await store.getNodes(15_000, at(30))
    t.same(a?.roles, ['execute'])
    t.equal(a?.lock, 'none')
  })

  t.test('getNodes counts each node\'s running executions', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('j1', { maxInstances: 3 }))
    await store.recordNode(node('n-1'), HOUR_MS, at(0))
    await store.recordNode(node('n-2'), HOUR_MS, at(0))
    const started: ExecutionRecord[] = []
    for (const [second, owner] of [[1, 'n-1'], [2, 'n-1'], [3, 'n-2']] as const) {
      started.push(await store.claimImmediateRun('j1', { now: at(second), owner, leaseMs: HOUR_MS }) as ExecutionRecord)
    }
    t.same(started.map((execution) => execution.status), ['running', 'running', 'running'], 'setup: three running executions')
    t.same((await store.getNodes(15_000, at(4))).map((n) => [n.nodeId, n.running]), [['n-1', 2], ['n-2', 1]])
    await store.finishExecution(started[0]?.id as number, { status: 'success' }, at(5))
    t.same((await store.getNodes(15_000, at(6))).map((n) => [n.nodeId, n.running]), [['n-1', 1], ['n-2', 1]], 'a finished execution no longer counts')
  })

  t.test('a heartbeat prunes other nodes unseen for longer than the retention, never its own row', async (t) => {
    const store = await open(t)
    await store.recordNode(node('old'), HOUR_MS, at(0))
    await store.recordNode(node('recent'), HOUR_MS, at(1800))
    await store.recordNode(node('self'), HOUR_MS, at(0))
    await store.recordNode(node('self'), HOUR_MS, at(3600))
    t.same((await store.getNodes(10 * HOUR_MS, at(3600))).map((n) => n.nodeId), ['old', 'recent', 'self'], 'unseen for exactly the retention: kept')
    await store.recordNode(node('self'), HOUR_MS, at(3601))
    t.same((await store.getNodes(10 * HOUR_MS, at(3601))).map((n) => n.nodeId), ['recent', 'self'], 'unseen for more: deleted')
  })

  t.test('removeNode deletes the row and says whether it was there', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-1'), HOUR_MS, at(0))
    t.equal(await store.removeNode('n-1'), true)
    t.equal(await store.removeNode('n-1'), false)
    t.same(await store.getNodes(HOUR_MS, at(1)), [])
  })
}
