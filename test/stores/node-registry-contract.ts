/**
 * The node registry part of the JobStore contract (`recordNode`, `removeNode`, `getNodes`), run
 * against every store (memory.test.ts, pglite.test.ts, postgresql.test.ts). Heartbeats are written
 * at explicit 2030 times, so every expected time, age and liveness below is arithmetic on those
 * times; running counts come from executions started through the store's own run-now.
 */
import type { ExecutionRecord, NodeRegistration } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const HOUR_MS = 3_600_000
/** Live within three of its own heartbeats; pruned after an hour and three heartbeats. */
const STALE = 3
const RETENTION = { retentionMs: HOUR_MS, staleHeartbeats: STALE }

/** A node beating every 5 s: live while seen within 15 s. */
const node = (nodeId: string, overrides: Partial<NodeRegistration> = {}): NodeRegistration =>
  ({ nodeId, host: 'host-1', pid: 4242, tasks: ['report', 'email'], roles: ['plan', 'execute'], lock: 'advisory', heartbeatMs: 5000, ...overrides })

export function nodeRegistryContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest) => openStore(t, makeStore)

  t.test('recordNode registers a node; a later heartbeat moves lastSeenAt, keeps startedAt and replaces tasks', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-1'), RETENTION, at(0))
    t.same(await store.getNodes(STALE, at(5)), [{
      ...node('n-1'), startedAt: at(0), lastSeenAt: at(0), lastSeenAgoMs: 5000, running: 0
    }], 'registered at 0 s, seen 5 s ago at 5 s')
    await store.recordNode(node('n-1', { tasks: ['report'], pid: 4343 }), RETENTION, at(10))
    const [again] = await store.getNodes(STALE, at(12))
    t.same(again?.startedAt, at(0), 'startedAt is the first heartbeat')
    t.same(again?.lastSeenAt, at(10), 'lastSeenAt is the last heartbeat')
    t.equal(again?.lastSeenAgoMs, 2000)
    t.same(again?.tasks, ['report'], 'tasks are replaced, not merged')
    t.equal(again?.pid, 4343)
  })

  t.test('getNodes lists the nodes seen within three of their own heartbeats, by node id in code-point order', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-b'), RETENTION, at(0))
    await store.recordNode(node('n-a', { roles: ['execute'], lock: 'none' }), RETENTION, at(20))
    await store.recordNode(node('n-c'), RETENTION, at(30))
    await store.recordNode(node('slow', { heartbeatMs: 10_000 }), RETENTION, at(0))
    t.same((await store.getNodes(STALE, at(30))).map((n) => n.nodeId), ['n-a', 'n-c', 'slow'],
      'n-b (5 s heartbeat) unseen for 30 s is not live; slow (10 s heartbeat) seen exactly 30 s ago still is')
    t.same((await store.getNodes(STALE, at(31))).map((n) => n.nodeId), ['n-a', 'n-c'], 'a second later, slow is not live either')
    const [a] = await store.getNodes(STALE, at(30))
    t.same(a?.roles, ['execute'])
    t.equal(a?.lock, 'none')
    t.equal(a?.heartbeatMs, 5000)
    // '-' (U+002D) sorts before 'b' (U+0062) by code point; a linguistic collation ignoring punctuation would put nodeb first.
    await store.recordNode(node('nodeb'), RETENTION, at(30))
    await store.recordNode(node('node-c'), RETENTION, at(30))
    t.same((await store.getNodes(STALE, at(30))).map((n) => n.nodeId), ['n-a', 'n-c', 'node-c', 'nodeb', 'slow'], 'code-point order')
  })

  t.test('getNodes counts each node\'s running executions', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('j1', { maxInstances: 3 }))
    await store.recordNode(node('n-1'), RETENTION, at(0))
    await store.recordNode(node('n-2'), RETENTION, at(0))
    const started: ExecutionRecord[] = []
    for (const [second, owner] of [[1, 'n-1'], [2, 'n-1'], [3, 'n-2']] as const) {
      started.push(await store.claimImmediateRun('j1', { now: at(second), owner, leaseMs: HOUR_MS }) as ExecutionRecord)
    }
    t.same(started.map((execution) => execution.status), ['running', 'running', 'running'], 'setup: three running executions')
    t.same((await store.getNodes(STALE, at(4))).map((n) => [n.nodeId, n.running]), [['n-1', 2], ['n-2', 1]])
    await store.finishExecution(started[0]?.id as number, { status: 'success' }, at(5))
    t.same((await store.getNodes(STALE, at(6))).map((n) => [n.nodeId, n.running]), [['n-1', 1], ['n-2', 1]], 'a finished execution no longer counts')
  })

  t.test('a heartbeat prunes other nodes unseen for longer than the retention and three of their heartbeats, never its own row', async (t) => {
    const store = await open(t)
    // Listed with a window of 10,000 heartbeats (5 s each: about 14 h), so rows that are not live show too.
    const all = async (second: number): Promise<string[]> => (await store.getNodes(10_000, at(second))).map((n) => n.nodeId)
    await store.recordNode(node('old'), RETENTION, at(0))
    await store.recordNode(node('hourly', { heartbeatMs: HOUR_MS }), RETENTION, at(0))
    await store.recordNode(node('recent'), RETENTION, at(1800))
    await store.recordNode(node('self'), RETENTION, at(0))
    await store.recordNode(node('self'), RETENTION, at(3600))
    t.same(await all(3600), ['hourly', 'old', 'recent', 'self'], 'unseen for exactly the retention: kept')
    await store.recordNode(node('self'), RETENTION, at(3601))
    t.same(await all(3601), ['hourly', 'recent', 'self'], 'unseen for more: deleted; an hourly node is kept for three of its hours')
    await store.recordNode(node('self'), RETENTION, at(3 * 3600 + 1))
    t.same(await all(3 * 3600 + 1), ['self'], 'and deleted after them')
  })

  t.test('removeNode deletes the row and says whether it was there', async (t) => {
    const store = await open(t)
    await store.recordNode(node('n-1'), RETENTION, at(0))
    t.equal(await store.removeNode('n-1'), true)
    t.equal(await store.removeNode('n-1'), false)
    t.same(await store.getNodes(STALE, at(1)), [])
  })
}
