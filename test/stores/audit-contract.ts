/**
 * The audit trail part of the JobStore contract (the `audit` context of the job writes, and
 * `recordAudit`, `getAudit`, `countAudit`, `deleteOldAudit`), run against every store
 * (memory.test.ts, pglite.test.ts, postgresql.test.ts). Audit rows are written at explicit 2030
 * times (`AuditContext.at`), so the order, filters and retention are arithmetic on those times.
 */
import { auditEntry, type AuditContext } from '../../src/stores/audit.js'
import type { JobStore } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const ctx = (action: AuditContext['action'], seconds: number, actor = 'alice'): AuditContext => ({ action, actor, at: at(seconds) })

export function auditContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  t.test('every audited job write records its action, actor and changed fields; unaudited writes record nothing', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('quiet'))
    await store.updateJob('quiet', { paused: true })
    await store.removeJob('quiet')
    t.equal(await store.countAudit(), 0, 'writes without an audit context are not audited (the scheduler\'s own bookkeeping)')

    await store.addJob(newJob('a', { nextRunTime: at(60) }), { audit: ctx('added', 1) })
    await store.updateJob('a', { paused: true }, { audit: ctx('paused', 2) })
    await store.updateJob('a', { name: 'renamed', args: [1, 'two'] }, { expectedVersion: 2, audit: ctx('modified', 3, 'bob') })
    const run = await store.queueRun('a', at(4), { audit: ctx('run', 4) })
    await store.removeJob('a', { audit: ctx('removed', 5) })

    const rows = await store.getAudit({ jobId: 'a' })
    t.same(rows.map((row) => [row.action, row.actor, row.at.toISOString()]), [
      ['removed', 'alice', at(5).toISOString()],
      ['run', 'alice', at(4).toISOString()],
      ['modified', 'bob', at(3).toISOString()],
      ['paused', 'alice', at(2).toISOString()],
      ['added', 'alice', at(1).toISOString()]
    ], 'newest first')
    const [removed, ran, modified, paused, added] = rows
    t.same(added?.changes.name, { before: null, after: 'job a' }, 'an add records every field, from null')
    t.same(added?.changes.nextRunTime, { before: null, after: at(60).toISOString() }, 'dates as ISO strings')
    t.notOk('version' in (added?.changes ?? {}) || 'updatedAt' in (added?.changes ?? {}) || 'createdAt' in (added?.changes ?? {}), 'bookkeeping fields are left out')
    t.same(paused?.changes, { paused: { before: false, after: true } }, 'only the changed field')
    t.same(modified?.changes, { name: { before: 'job a', after: 'renamed' }, args: { before: [], after: [1, 'two'] } })
    t.same(ran?.changes, { executionId: { before: null, after: run?.id } }, 'a run names its execution')
    t.same(removed?.changes.name, { before: 'renamed', after: null }, 'a removal records every field, to null')
    t.ok(rows.every((row) => row.jobId === 'a' && Number.isInteger(row.id)))
  })

  t.test('a write that fails records nothing: conflicting id, lost version race, unknown job', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('a'), { audit: ctx('added', 1) })
    await t.rejects(store.addJob(newJob('a'), { audit: ctx('added', 2) }), { code: 'FST_SCHEDULER_CONFLICTING_ID' })
    await t.rejects(store.addJobs([newJob('b'), newJob('a')], { audit: ctx('added', 2) }), { code: 'FST_SCHEDULER_CONFLICTING_ID' })
    await t.rejects(store.updateJob('a', { paused: true }, { expectedVersion: 7, audit: ctx('paused', 3) }), { code: 'FST_SCHEDULER_VERSION_MISMATCH' })
    await t.rejects(store.updateJob('nope', { paused: true }, { audit: ctx('paused', 3) }), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    t.equal(await store.removeJob('nope', { audit: ctx('removed', 4) }), false)
    t.equal(await store.queueRun('nope', at(4), { audit: ctx('run', 4) }), null)
    t.same((await store.getAudit()).map((row) => [row.action, row.jobId]), [['added', 'a']], 'only the add that happened')
  })

  t.test('addJobs records one row per job; replaceExisting records a modification of the replaced job', async (t) => {
    const store = await open(t)
    await store.addJobs([newJob('a'), newJob('b')], { audit: ctx('added', 1) })
    await store.addJob(newJob('a', { name: 'new name' }), { replaceExisting: true, audit: ctx('added', 2) })
    await store.claimImmediateRun('b', { now: at(3), owner: 'node-a', leaseMs: 30_000, audit: ctx('run', 3, 'carol') })
    const rows = await store.getAudit()
    t.same(rows.map((row) => [row.action, row.jobId, row.actor]), [['run', 'b', 'carol'], ['modified', 'a', 'alice'], ['added', 'b', 'alice'], ['added', 'a', 'alice']],
      'newest first; rows of one instant by id, newest first')
    t.same(rows[1]?.changes, { name: { before: 'job a', after: 'new name' } }, 'the replaced fields only')
  })

  t.test('getAudit filters by job, actor and time range (inclusive) and pages; countAudit ignores the page', async (t) => {
    const store = await open(t)
    await store.addJobs([newJob('a'), newJob('b')])
    await store.recordAudit([
      auditEntry(ctx('paused', 10, 'alice'), 'a', {}),
      auditEntry(ctx('resumed', 20, 'bob'), 'a', {}),
      auditEntry(ctx('paused', 30, 'alice'), 'b', {}),
      auditEntry(ctx('modified', 40, 'alice'), 'a', { name: { before: 'x', after: 'y' } })
    ])
    const ids = async (filter: Parameters<JobStore['getAudit']>[0]): Promise<string[]> =>
      (await store.getAudit(filter)).map((row) => `${row.jobId}@${(row.at.getTime() - at(0).getTime()) / 1000}`)
    t.same(await ids({}), ['a@40', 'b@30', 'a@20', 'a@10'])
    t.same(await ids({ jobId: 'a' }), ['a@40', 'a@20', 'a@10'])
    t.same(await ids({ actor: 'alice' }), ['a@40', 'b@30', 'a@10'])
    t.same(await ids({ from: at(20), to: at(30) }), ['b@30', 'a@20'], 'both bounds inclusive')
    t.same(await ids({ jobId: 'a', actor: 'alice', from: at(15) }), ['a@40'])
    t.same(await ids({ limit: 2, offset: 1 }), ['b@30', 'a@20'])
    t.equal(await store.countAudit({ jobId: 'a', limit: 1, offset: 5 }), 3, 'count ignores limit and offset')
    t.equal(await store.countAudit({ actor: 'nobody' }), 0)
    const [modified] = await store.getAudit({ limit: 1 })
    t.same(modified?.changes, { name: { before: 'x', after: 'y' } }, 'changes read back as JSON')
  })

  t.test('deleteOldAudit deletes rows older than the age at the time given, and counts them', async (t) => {
    const store = await open(t)
    await store.recordAudit([10, 20, 30, 40].map((seconds) => auditEntry(ctx('paused', seconds), 'a', {})))
    t.equal(await store.deleteOldAudit(25, at(50)), 2, 'rows at 10 s and 20 s are older than 25 s at 50 s')
    t.same((await store.getAudit()).map((row) => row.at.toISOString()), [at(40).toISOString(), at(30).toISOString()])
    t.equal(await store.deleteOldAudit(20, at(50)), 0, 'a row exactly 20 s old stays (older than, not as old as)')
    t.equal(await store.deleteOldAudit(0, at(50)), 2)
    t.equal(await store.countAudit(), 0)
  })

  t.test('text is sanitised and bounded: NUL bytes, lone surrogates, long actors, huge changes', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('a'))
    await store.updateJob('a', { args: ['x'.repeat(100_000)] }, { audit: { action: 'modified', actor: `eve\u0000${'e'.repeat(5000)}\uDC00`, at: at(1) } })
    const [row] = await store.getAudit()
    t.ok(row !== undefined, 'the row was written')
    t.notMatch(row?.actor, /\u0000/, 'no NUL in the actor')
    t.ok((row?.actor.length ?? Infinity) < 400, 'the actor is bounded')
    t.match(row?.actor, /^eve\uFFFD/, 'NUL replaced, not dropped')
    t.ok((row?.changes.args?.after as string[])[0]!.length < 5000, 'a long string inside changes is cut')

    // Values jsonb refuses (a job's args cannot hold them, but an ORM snapshot or another store might).
    await store.recordAudit([auditEntry({ action: 'modified', actor: 'eve', at: at(2) }, 'a\u0000b', { ['k\u0000' as string]: { before: 'nul\u0000here', after: 'half \uD83D' } })])
    const [hostile] = await store.getAudit({ limit: 1 })
    t.equal(hostile?.jobId, 'a\uFFFDb')
    t.same(hostile?.changes, { 'k\uFFFD': { before: 'nul\uFFFDhere', after: 'half \uFFFD' } }, 'keys and values sanitised')

    await store.updateJob('a', { args: Array.from({ length: 3000 }, (_, i) => `item ${i} `.repeat(5)) }, { audit: { action: 'modified', actor: 'eve', at: at(3) } })
    const [big] = await store.getAudit({ limit: 1 })
    t.match(big?.changes.args, { before: /change not stored/, after: /change not stored/ }, 'changes over 64 KiB keep a note per field')
  })
}
