/**
 * The outcome writer batches outcomes into one store call, retries a failing batch row by row (one
 * poison row never costs the others), keeps outcomes through an outage (bounded by `maxPending`),
 * and gives up on them only at `close()`.
 */
import t from 'tap'
import { OutcomeWriter } from '../../src/scheduler/outcome-writer.js'
import type { ExecutionOutcome, ExecutionRecord } from '../../src/stores/job-store.js'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'

/** A database fault with a SQLSTATE, like `pg` reports them. */
function fault (code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

class FlakyStore extends MemoryJobStore {
  calls: number[] = []
  /** Connection faults still to throw. */
  failures = 0

  override async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null): Promise<Array<ExecutionRecord | null>> {
    this.calls.push(outcomes.length)
    if (this.failures > 0) {
      this.failures--
      throw fault('57P01', 'terminating connection due to administrator command')
    }
    // Like PostgreSQL refusing one row's text: the whole statement fails.
    if (outcomes.some(({ outcome }) => outcome.exception?.includes('POISON') === true)) throw fault('22021', 'invalid byte sequence for encoding "UTF8"')
    return super.finishExecutions(outcomes, now)
  }
}

async function runningExecutions (store: MemoryJobStore, count: number): Promise<ExecutionRecord[]> {
  await store.addJob({ id: 'j', name: 'j', task: 't', args: [], trigger: { type: 'interval', seconds: 1 }, nextRunTime: null, paused: false, misfireGraceTime: null, coalesce: true, maxInstances: 100, timeoutMs: null, lastError: null })
  const runs: ExecutionRecord[] = []
  for (let i = 0; i < count; i++) runs.push(await store.claimImmediateRun('j', { now: new Date(Date.UTC(2030, 0, 1, 0, 0, i)), owner: 'me', leaseMs: 60_000 }) as ExecutionRecord)
  return runs
}

const writerOn = (store: MemoryJobStore, maxPending = 100): OutcomeWriter => new OutcomeWriter({ store, clock: null, random: () => 0, maxPending })
const statusOf = (result: Awaited<ReturnType<OutcomeWriter['write']>>): string => result.kind === 'written' ? result.execution.status : result.kind

t.test('outcomes written in the same tick go in one call', async (t) => {
  const store = new FlakyStore()
  const runs = await runningExecutions(store, 5)
  const writer = writerOn(store)
  const finished = await Promise.all(runs.map(async (run) => writer.write(run.id, { status: 'success', durationMs: 1 })))
  t.same(store.calls, [5], 'one batch of five')
  t.same(finished.map(statusOf), ['success', 'success', 'success', 'success', 'success'])
})

t.test('connection faults are retried for as long as they last (no retry budget)', async (t) => {
  const store = new FlakyStore()
  const [run] = await runningExecutions(store, 1)
  store.failures = 12
  const writer = writerOn(store)
  t.same(writer.pendingIds(), [])
  const written = writer.write((run as ExecutionRecord).id, { status: 'success' })
  t.same(writer.pendingIds(), [(run as ExecutionRecord).id], 'waiting to be written (its lease is renewed meanwhile)')
  t.equal(statusOf(await written), 'success', 'written on the 13th attempt')
  t.equal(store.calls.length, 13)
  t.same(writer.pendingIds(), [])
})

t.test('a poison row is retried alone; the rest of its batch is written', async (t) => {
  const store = new FlakyStore()
  const runs = await runningExecutions(store, 3)
  const writer = writerOn(store)
  const [a, poison, b] = await Promise.all([
    writer.write((runs[0] as ExecutionRecord).id, { status: 'success' }),
    writer.write((runs[1] as ExecutionRecord).id, { status: 'error', exception: 'POISON', traceback: 'POISON at …', retryDelayMs: 5000 }),
    writer.write((runs[2] as ExecutionRecord).id, { status: 'error', exception: 'fine' })
  ])
  t.equal(statusOf(a), 'success')
  t.equal(statusOf(b), 'error')
  t.equal(statusOf(poison), 'error', 'the poison row is still recorded error')
  const stored = await store.getExecution((runs[1] as ExecutionRecord).id)
  t.match(stored?.exception, /^the outcome \(error\) could not be stored as is: 22021 invalid byte sequence/, 'with why its own text was refused')
  t.same(store.calls, [3, 1, 1, 1, 1], 'the batch, then row by row, then the poison row with a plain description')
  t.ok(stored?.nextAttemptAt instanceof Date, 'and its retry is still scheduled (the plain outcome keeps retryDelayMs)')
  t.equal((await store.getExecutions({ status: 'queued' })).length, 1, 'its next attempt is queued')
})

t.test('maxPending bounds the outcomes kept; close() gives up on those still waiting and names them', async (t) => {
  const store = new FlakyStore()
  const runs = await runningExecutions(store, 3)
  store.failures = Infinity
  const writer = writerOn(store, 2)
  const first = writer.write((runs[0] as ExecutionRecord).id, { status: 'success' })
  const second = writer.write((runs[1] as ExecutionRecord).id, { status: 'success' })
  const third = await writer.write((runs[2] as ExecutionRecord).id, { status: 'success' })
  t.match(third, { kind: 'lost', reason: /maxPendingOutcomes \(2\)/ }, 'the third is refused at once')
  const lost = await writer.close(50)
  t.same(lost, [(runs[0] as ExecutionRecord).id, (runs[1] as ExecutionRecord).id])
  t.match(await first, { kind: 'lost', reason: /shut down/ })
  t.match(await second, { kind: 'lost' })
})

t.test('an outcome for an abandoned row is recorded as its late outcome', async (t) => {
  const store = new FlakyStore()
  const [run] = await runningExecutions(store, 1)
  await store.abandonExpiredExecutions('lease expired', new Date(Date.UTC(2031, 0, 1)))
  const writer = writerOn(store)
  const late = await writer.write((run as ExecutionRecord).id, { status: 'error', exception: 'finished after all' })
  t.equal(late.kind, 'late')
  if (late.kind === 'late') t.match(late.execution, { status: 'abandoned', lateStatus: 'error', lateException: 'finished after all' })
  t.equal((await writer.write((run as ExecutionRecord).id, { status: 'success' })).kind, 'gone', 'only the first late outcome is kept')
})
