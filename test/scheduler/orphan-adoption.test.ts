/**
 * A claim that committed at the server while this process saw it fail (the answer to COMMIT lost,
 * or the client deadline firing during COMMIT): its `running` rows belong to this node and nobody
 * else will run them. The loop adopts them after the failed claim and runs each once, counted by
 * the handler's own calls rather than by the table. On PostgreSQL and MariaDB.
 */
import type { MikroORM } from '@mikro-orm/core'
import t, { type Test } from 'tap'
import type { ClaimOptions, ClaimedJob, ExecutionFilter, ExecutionRecord, QueryOptions, QueuedClaimOptions } from '../../src/stores/job-store.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

/** A store whose first claim that starts anything commits, then throws as if COMMIT's answer was lost. */
class LostCommitStore extends MikroOrmJobStore {
  lostClaims: ClaimedJob[][] = []

  override async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    const claims = await super.claimDueJobs(options)
    if (this.lostClaims.length === 0 && claims.some((claim) => claim.running.length > 0)) {
      this.lostClaims.push(claims)
      throw new Error('the answer to COMMIT was lost (test)')
    }
    return claims
  }
}

/** A started scheduler on `store`, whose task 'work' counts its calls per occurrence (the ledger). */
async function countingScheduler (t: Test, store: MikroOrmJobStore, orm: MikroORM, options: { pollIntervalMs: number, leaseMs: number }): Promise<{ scheduler: Scheduler, calls: Map<string, number> }> {
  const scheduler = new Scheduler({ store, orm, ...options })
  t.teardown(async () => scheduler.shutdown())
  const calls = new Map<string, number>()
  scheduler.registerTask('work', async (ctx) => {
    const key = `${ctx.job.id} ${ctx.runTime.toISOString()}`
    calls.set(key, (calls.get(key) ?? 0) + 1)
  })
  await scheduler.start()
  return { scheduler, calls }
}

/**
 * Adoption reads a snapshot: an execution this process ran and wrote after the snapshot still looks
 * `running` and unheld in it. The store below makes that race certain by answering adoption's
 * query with every execution claimed from the failed claim on as still running. (Rows written
 * before the claim failed cannot look running: adoption's query starts after it, so its snapshot
 * sees their outcome.)
 */
class StaleSnapshotStore extends LostCommitStore {
  claimedRunning: ExecutionRecord[] = []

  override async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    const lostBefore = this.lostClaims.length
    try {
      const claims = await super.claimDueJobs(options)
      if (lostBefore > 0) this.#record(claims)
      return claims
    } finally {
      if (this.lostClaims.length > lostBefore) this.#record(this.lostClaims.at(-1) ?? [])
    }
  }

  #record (claims: ClaimedJob[]): void {
    for (const claim of claims) this.claimedRunning.push(...claim.running)
  }

  override async getExecutions (filter: ExecutionFilter = {}, options: QueryOptions = {}): Promise<ExecutionRecord[]> {
    const rows = await super.getExecutions(filter, options)
    if (filter.owner === undefined) return rows
    const ids = new Set(rows.map((row) => row.id))
    return [...rows, ...this.claimedRunning.filter((execution) => !ids.has(execution.id))]
  }
}

/** A store whose first claim that starts a retry (attempt 2) commits, then throws as if COMMIT's answer was lost. */
class LostRetryClaimStore extends MikroOrmJobStore {
  lostClaims: ClaimedJob[][] = []

  override async claimQueuedRuns (options: QueuedClaimOptions): Promise<ClaimedJob[]> {
    const claims = await super.claimQueuedRuns(options)
    if (this.lostClaims.length === 0 && claims.some((claim) => claim.running.some((execution) => execution.attempt > 1))) {
      this.lostClaims.push(claims)
      throw new Error('the answer to COMMIT was lost (test)')
    }
    return claims
  }
}

/** LostCommitStore claiming 3 s ahead: the lost claim's runs are claimed before their fire time. */
class LostAheadCommitStore extends LostCommitStore {
  override async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    return super.claimDueJobs({ ...options, aheadMs: 3000 })
  }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: what a failed claim committed after all is adopted and run once`, async (t) => {
    const url = await db.fresh(t, 'orphan_adoption')
    const orm = await db.openOrm(t, url)
    const store = new LostCommitStore(orm)
    const { scheduler, calls } = await countingScheduler(t, store, orm, { pollIntervalMs: 500, leaseMs: 3000 })
    const runDate = new Date(Date.now() + 500).toISOString()
    await scheduler.addJob({ id: 'a', task: 'work', trigger: { type: 'date', runDate } })
    await scheduler.addJob({ id: 'b', task: 'work', trigger: { type: 'date', runDate } })
    await waitUntil('the lost claim', () => store.lostClaims.length > 0, 20_000)
    const lost = store.lostClaims[0]?.flatMap((claim) => claim.running) ?? []
    t.ok(lost.length >= 1, `${lost.length} executions committed by the claim that failed`)
    for (const execution of lost) {
      const done = await scheduler.waitForExecution(execution.id, { timeoutMs: 20_000 })
      t.equal(done.status, 'success', `execution ${execution.id} (${execution.jobId}) ran to success, not abandoned`)
      t.equal(calls.get(`${execution.jobId} ${execution.runTime.toISOString()}`), 1, `its handler ran once (${execution.jobId})`)
    }
    const rows = await db.query<{ job_id: string, status: string }>(url, 'select job_id, status from scheduler_job_execution order by job_id')
    t.same(rows, [{ job_id: 'a', status: 'success' }, { job_id: 'b', status: 'success' }], 'one success row per occurrence')
    t.same([...calls.values()], [1, 1], 'each handler ran once')
  })

  t.test(`${db.name}: an execution this process already ran is never adopted from a stale snapshot`, async (t) => {
    const url = await db.fresh(t, 'orphan_adoption_stale')
    const orm = await db.openOrm(t, url)
    const store = new StaleSnapshotStore(orm)
    const { scheduler, calls } = await countingScheduler(t, store, orm, { pollIntervalMs: 200, leaseMs: 4000 })
    const startDate = new Date(Date.now() + 500).toISOString()
    await scheduler.addJob({ id: 'every-second', task: 'work', trigger: { type: 'interval', seconds: 1, startDate }, coalesce: false, misfireGraceTime: null })
    await waitUntil('the lost claim', () => store.lostClaims.length > 0, 20_000)
    // Four more occurrences, claimed and written while adoption passes run on stale snapshots.
    await waitUntil('four more occurrences written', async () =>
      (await db.query(url, "select 1 from scheduler_job_execution where status = 'success'")).length >= 5, 20_000)
    const twice = [...calls].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`)
    t.same(twice, [], 'no handler ran twice for one occurrence')
    t.ok(calls.size >= 5, `${calls.size} occurrences ran`)
  })

  t.test(`${db.name}: a retry started by a claim whose answer was lost is adopted, though its row is older than executions run since`, async (t) => {
    const url = await db.fresh(t, 'orphan_adoption_retry')
    const orm = await db.openOrm(t, url)
    const store = new LostRetryClaimStore(orm)
    const scheduler = new Scheduler({ store, orm, pollIntervalMs: 200, leaseMs: 3000 })
    t.teardown(async () => scheduler.shutdown())
    const calls: string[] = []
    scheduler.registerTask('flaky', async (ctx) => {
      calls.push(`${ctx.job.id}#${ctx.attempt}`)
      if (ctx.attempt === 1) throw new Error('first attempt fails')
    })
    scheduler.registerTask('other', async (ctx) => { calls.push(`${ctx.job.id}#${ctx.attempt}`) })
    await scheduler.start()
    await scheduler.addJob({ id: 'flaky', task: 'flaky', trigger: { type: 'interval', hours: 1 }, retry: { attempts: 2, backoff: 'fixed', delayMs: 1500 } })
    await scheduler.addJob({ id: 'other', task: 'other', trigger: { type: 'interval', hours: 1 } })
    const first = await scheduler.waitForExecution((await scheduler.runJob('flaky', { inProcess: true })).id)
    t.equal(first.status, 'error')
    // Before the retry falls due, this process runs an execution with a higher id than the retry's row.
    const other = await scheduler.waitForExecution((await scheduler.runJob('other', { inProcess: true })).id)
    const retryRow = (await scheduler.getExecutions({ jobId: 'flaky', status: 'queued' }))[0]
    t.ok(retryRow !== undefined && other.id > retryRow.id, `the retry's row (${retryRow?.id}) is older than the execution run since (${other.id})`)
    await waitUntil('the claim that started the retry was lost', () => store.lostClaims.length > 0, 20_000)
    const done = await scheduler.waitForExecution(retryRow?.id as number, { timeoutMs: 20_000 })
    t.equal(done.status, 'success', 'the retry ran to success (adopted), not abandoned when its lease ran out')
    t.same(calls.filter((call) => call.startsWith('flaky')), ['flaky#1', 'flaky#2'], 'each attempt ran once')
  })

  t.test(`${db.name}: an adopted run claimed ahead still waits for its fire time`, async (t) => {
    const url = await db.fresh(t, 'orphan_adoption_ahead')
    const orm = await db.openOrm(t, url)
    const store = new LostAheadCommitStore(orm)
    const scheduler = new Scheduler({ store, orm, pollIntervalMs: 500, leaseMs: 5000 })
    t.teardown(async () => scheduler.shutdown())
    const starts: Array<{ runTime: number, at: number }> = []
    scheduler.registerTask('work', async (ctx) => { starts.push({ runTime: ctx.runTime.getTime(), at: Date.now() }) })
    await scheduler.start()
    const runDate = new Date(Date.now() + 2000)
    await scheduler.addJob({ id: 'later', task: 'work', trigger: { type: 'date', runDate: runDate.toISOString() } })
    await waitUntil('the lost claim', () => store.lostClaims.length > 0, 20_000)
    const [lost] = store.lostClaims[0]?.flatMap((claim) => claim.running) ?? []
    t.ok(lost !== undefined && lost.startAfter !== null, 'the claim that failed had claimed the run ahead of its fire time')
    t.ok(Date.now() < runDate.getTime(), 'and failed before that time')
    const done = await scheduler.waitForExecution((lost as ExecutionRecord).id, { timeoutMs: 20_000 })
    t.equal(done.status, 'success', 'adopted and run')
    t.equal(starts.length, 1, 'once')
    t.ok((starts[0]?.at ?? 0) >= runDate.getTime(), `not before its fire time (started ${(starts[0]?.at ?? 0) - runDate.getTime()} ms after it)`)
  })
}
