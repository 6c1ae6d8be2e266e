/**
 * When an outcome waits to be written (a batch in flight, a database outage), the row still says
 * when the execution ended: `finished_at` is the write's time less how long the outcome waited, and
 * `started_at` = `finished_at` − `duration_ms`. Judged by the handler's own clock readings, not by
 * the scheduler's. (A statement the server itself runs late still takes the server's time.) On
 * PostgreSQL and MariaDB.
 */
import t from 'tap'
import type { ExecutionOutcome, ExecutionRecord, QueryOptions } from '../../src/stores/job-store.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'

/** Outcome writes fail for this long after the first one, as through a database outage. */
const OUTAGE_MS = 2000

class OutageStore extends MikroOrmJobStore {
  firstWriteAt: number | null = null
  failedWrites = 0

  override async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome }>, now: Date | null, options?: QueryOptions): Promise<Array<ExecutionRecord | null>> {
    this.firstWriteAt ??= Date.now()
    if (Date.now() - this.firstWriteAt < OUTAGE_MS) {
      this.failedWrites++
      throw Object.assign(new Error('connection terminated (test outage)'), { code: '57P01' })
    }
    return super.finishExecutions(outcomes, now, options)
  }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: an outcome written after an outage keeps when its execution started and ended`, async (t) => {
    const url = await db.fresh(t, 'outcome_timing')
    const orm = await db.openOrm(t, url)
    const store = new OutageStore(orm)
    const scheduler = new Scheduler({ store, orm })
    t.teardown(async () => scheduler.shutdown())
    const seen: { startedAt?: number, endedAt?: number } = {}
    scheduler.registerTask('timed', async () => {
      seen.startedAt = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 300))
      seen.endedAt = Date.now()
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'timed', task: 'timed', trigger: { type: 'interval', hours: 1 } })
    const execution = await scheduler.waitForExecution((await scheduler.runJob('timed', { inProcess: true })).id, { timeoutMs: 20_000 })
    // The server's time now (PostgreSQL's now() would be the transaction's start).
    const serverTime = { postgresql: 'clock_timestamp()', mariadb: 'UTC_TIMESTAMP(3)' }[db.name]
    const [row] = await db.query<{ started_at: Date, finished_at: Date, written_at: Date }>(url,
      `select started_at, finished_at, ${serverTime} as written_at from scheduler_job_execution where id = ?`, [execution.id])
    const finishedAt = (row?.finished_at as Date).getTime()
    const startedAt = (row?.started_at as Date).getTime()
    t.ok(store.failedWrites >= 2, `the write failed ${store.failedWrites} times first`)
    t.ok((row?.written_at as Date).getTime() - (seen.endedAt as number) >= OUTAGE_MS - 100, 'and went through after the outage')
    t.ok(Math.abs(finishedAt - (seen.endedAt as number)) < 500, `finished_at is when the handler ended (off by ${finishedAt - (seen.endedAt as number)} ms), not when it was written`)
    t.ok(Math.abs(startedAt - (seen.startedAt as number)) < 500, `started_at is when the handler began (off by ${startedAt - (seen.startedAt as number)} ms)`)
  })
}
