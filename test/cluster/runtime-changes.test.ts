/**
 * Changes from another process reach the running leader at once (NOTIFY on PostgreSQL, the change
 * counter polled every 250 ms on MariaDB), not at its 30 s poll: a job added in process B fires on
 * leader A at its first fire time, a pause in B stops A before the next occurrence, and a run
 * queued in B runs on A. Process A is a real worker process; this test process is B (its scheduler
 * is not even started: it only writes). Once per server database (`SERVER_DATABASES`).
 */
import t from 'tap'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { assertEffectsIn, ledgerEnv } from '../helpers/effects.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { startProcess, stopProcess, waitForReport } from './processes.js'

const loader = new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href
const workerScript = new URL('./fixtures/runtime-worker.ts', import.meta.url).pathname

// Once per server, with real processes, on a shared 2-core machine: more than the default file timeout.
t.setTimeout(6 * 60_000)

for (const db of SERVER_DATABASES) {
  t.test(`on ${db.name}: add, pause and run-now from process B reach leader A within a second`, async (t) => {
    const url = await db.fresh(t, 'runtime_changes')
    const a = startProcess(t, 'A', [`--import=${loader}`, workerScript], { ...process.env, ...ledgerEnv(t), DATABASE_URL: url })
    // Generous: A compiles src/ through tap's loader as it starts, on a shared 2-core machine.
    const { nodeId: leaderId } = await waitForReport(a, 'leadership', (r) => r.event === 'leader', 180_000)
    t.teardown(async () => stopProcess(a))

    const orm = await db.openOrm(t, url)
    const b = new Scheduler({ store: new MikroOrmJobStore(orm), orm })
    b.registerTask('work', () => {})

    // 1. Added in B, fires on A at its first fire time.
    const job = await b.addJob({ id: 'every-second', task: 'work', trigger: { type: 'cron', expression: '* * * * * *' }, coalesce: false, maxInstances: 5 })
    const first = await waitForReport(a, 'the first execution', (r) => r.event === 'executed' && r.jobId === 'every-second')
    t.equal(new Date(first.runTime as string).toISOString(), job.nextFireTime?.toISOString(), 'the first execution is the first fire time, not one found by a later poll')
    t.ok((first.at as number) - Date.parse(first.runTime as string) < 1000, `started ${(first.at as number) - Date.parse(first.runTime as string)} ms after its fire time`)

    // 2. Paused in B: no occurrence after the pause runs on A. A sentinel due 2 s later proves A went on working.
    const paused = await b.pauseJob('every-second')
    const pausedAt = paused.updatedAt.getTime()
    await b.addJob({ id: 'sentinel', task: 'work', trigger: { type: 'date', runDate: new Date(pausedAt + 2000).toISOString() } })
    await waitForReport(a, 'the sentinel', (r) => r.event === 'executed' && r.jobId === 'sentinel', 10_000)
    const after = await db.query(url, "select run_time from scheduler_job_execution where job_id = 'every-second' and run_time > ?", [new Date(pausedAt + 1000)])
    t.same(after, [], 'nothing of the paused job ran after the pause (one in-flight occurrence at most)')

    // 3. Run now from B: queued at once, run by A, followed from B.
    const queued = await b.runJob('every-second')
    t.equal(queued.status, 'queued', 'runJob returns at once')
    const done = await b.waitForExecution(queued.id, { timeoutMs: 10_000 })
    t.equal(done.status, 'success')
    t.equal(done.owner, leaderId, 'the leader in the other process ran it')
    t.ok((done.startedAt as Date).getTime() - queued.runTime.getTime() < 1000, 'within a second of the request')

    // A's handler effects: one per row that ran (the queued run and the sentinel included), none twice.
    t.same(await stopProcess(a), { code: 0, signal: null }, 'A shut down cleanly')
    await assertEffectsIn(t, db, url, 3)
  })
}
