/**
 * The outcome writer batches outcomes into one store call and retries a failing batch.
 */
import t from 'tap'
import { OutcomeWriter } from '../../src/scheduler/outcome-writer.js'
import type { ExecutionOutcome, ExecutionRecord } from '../../src/stores/job-store.js'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'

class FlakyStore extends MemoryJobStore {
  calls: number[] = []
  failures = 0

  override async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
    this.calls.push(outcomes.length)
    if (this.failures > 0) {
      this.failures--
      throw new Error('connection terminated')
    }
    return super.finishExecutions(outcomes, now)
  }
}

async function runningExecutions (store: MemoryJobStore, count: number): Promise<ExecutionRecord[]> {
  await store.addJob({ id: 'j', name: 'j', task: 't', args: [], trigger: { type: 'interval', seconds: 1 }, nextRunTime: null, paused: false, misfireGraceTime: null, coalesce: true, maxInstances: 100, timeoutMs: null, lastError: null })
  const runs: ExecutionRecord[] = []
  for (let i = 0; i < count; i++) runs.push(await store.claimImmediateRun('j', { now: new Date(Date.UTC(2030, 0, 1, 0, 0, i)), owner: 'me', leaseMs: 60_000 }) as ExecutionRecord)
  return runs
}

t.test('outcomes written in the same tick go in one call', async (t) => {
  const store = new FlakyStore()
  const runs = await runningExecutions(store, 5)
  const writer = new OutcomeWriter(store, null, () => 0.5)
  const finished = await Promise.all(runs.map(async (run) => writer.write(run.id, { status: 'success', durationMs: 1 })))
  t.same(store.calls, [5], 'one batch of five')
  t.same(finished.map((e) => e?.status), ['success', 'success', 'success', 'success', 'success'])
})

t.test('a failing batch is retried; a batch that keeps failing rejects', async (t) => {
  const store = new FlakyStore()
  const [run] = await runningExecutions(store, 1)
  store.failures = 2
  const writer = new OutcomeWriter(store, null, () => 0)
  t.equal((await writer.write((run as ExecutionRecord).id, { status: 'success' }))?.status, 'success', 'written on the third attempt')
  t.same(store.calls, [1, 1, 1])
  store.failures = 100
  await t.rejects(writer.write((run as ExecutionRecord).id, { status: 'error' }), { message: 'connection terminated' })
  t.equal(store.calls.length, 3 + 6, 'six attempts, then it gives up')
})
