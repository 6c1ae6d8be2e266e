/**
 * Claiming ahead needs a free slot (scheduling-loop.ts): with every executor slot of the leader
 * taken, a run claimed ahead could only be queued, and starting a queued run costs a second claim,
 * so the loop claims nothing ahead and plans the occurrence when it falls due. What the loop asks
 * the store is read by a store that records each claim's options (`aheadMs`, `startLimit`); the
 * runs themselves by the effect ledger the handlers write. On PostgreSQL and MariaDB.
 */
import t from 'tap'
import type { ClaimedJob, ClaimOptions } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { recordEffect } from '../helpers/effect-ledger.js'
import { assertEffectsIn, effectsOf, ledgerDir } from '../helpers/effects.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

/** A store that records the options of every claim. */
class RecordingStore extends MikroOrmJobStore {
  readonly claims: Array<{ aheadMs: number, startLimit: number, at: number }> = []
  override async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    this.claims.push({ aheadMs: options.aheadMs ?? 0, startLimit: options.startLimit, at: Date.now() })
    return super.claimDueJobs(options)
  }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: a leader with no free slot claims nothing ahead; with one, it does again`, async (t) => {
    const url = await db.fresh(t, 'claim_ahead_slots')
    const orm = await db.openOrm(t, url)
    const store = new RecordingStore(orm)
    const scheduler = new Scheduler({ store, orm, maxConcurrency: 1, pollIntervalMs: 30_000 })
    t.teardown(async () => scheduler.shutdown())
    const ledger = ledgerDir(t)
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    scheduler.registerTask('hold', async (ctx) => { recordEffect(ctx.job.id, ctx.runTime, ledger, ctx.attempt); await held })
    scheduler.registerTask('tick', (ctx) => { recordEffect(ctx.job.id, ctx.runTime, ledger, ctx.attempt) })
    const startDate = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000)
    await scheduler.start()
    await scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'interval', seconds: 1, startDate: startDate.toISOString() }, coalesce: false, maxInstances: 10, misfireGraceTime: null })
    // Ticks run with the slot free: the loop learns its claim cycle and claims ahead.
    await waitUntil('the loop claims ahead with its slot free', () => store.claims.some((claim) => claim.startLimit === 1 && claim.aheadMs > 0), 20_000)

    await scheduler.addJob({ id: 'hold', task: 'hold', trigger: { type: 'date', runDate: new Date(Date.now() - 1).toISOString() } })
    await waitUntil('hold runs and takes the only slot', () => effectsOf(t).some((effect) => effect.jobId === 'hold'), 20_000)
    const fullFrom = store.claims.length
    const heldAt = Date.now()
    await waitUntil('four seconds of claims with the slot taken', () => Date.now() - heldAt >= 4000 && store.claims.length - fullFrom >= 3, 20_000)
    const whileFull = store.claims.slice(fullFrom).filter((claim) => claim.startLimit === 0)
    t.ok(whileFull.length >= 3, `${whileFull.length} claims with no free slot`)
    t.same(whileFull.filter((claim) => claim.aheadMs > 0), [], 'none of them claimed ahead')
    const rows = await db.query<{ status: string }>(url, "SELECT status FROM scheduler_job_execution WHERE job_id = 'tick' AND status = 'queued'")
    t.ok(rows.length >= 2, `the ticks due meanwhile were planned when due and queued for a slot (${rows.length} queued)`)

    release()
    const releasedAt = store.claims.length
    await waitUntil('the loop claims ahead again once a slot is free', () => store.claims.slice(releasedAt).some((claim) => claim.startLimit === 1 && claim.aheadMs > 0), 20_000)
    await waitUntil('the queued ticks ran', async () => (await db.query(url, "SELECT 1 FROM scheduler_job_execution WHERE status = 'queued'")).length === 0, 20_000)
    await scheduler.shutdown()
    // Every tick and hold ran once per occurrence, each effect with its row (at least hold and the two queued ticks).
    await assertEffectsIn(t, db, url, 3)
  })
}
