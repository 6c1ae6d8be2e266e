/**
 * The effect ledger's checker (test/helpers/effect-ledger.ts), which the real-process tests and the
 * soak rely on: it must flag what it claims to flag. Ledgers written by real appends in this
 * process (one file per pid, as the workers do), judged against hand-written execution rows.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { checkEffects, checkLedger, readLedger, recordEffect, type Effect } from '../helpers/effect-ledger.js'

const at = (iso: string): Date => new Date(iso)
const T1 = '2026-01-01T00:00:01.000Z'
const T2 = '2026-01-01T00:00:02.000Z'
const effect = (jobId: string, runTime: string, pid: number, when = 0): Effect => ({ jobId, runTime, pid, at: when })

t.test('recordEffect appends one line per effect to <pid>.jsonl, nothing without a directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-ledger-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  recordEffect('a', at(T1), dir)
  recordEffect('a', at(T2), dir)
  recordEffect('b', at(T1), '')
  const effects = readLedger(dir)
  t.same(effects.map((e) => [e.jobId, e.runTime, e.pid]), [['a', T1, process.pid], ['a', T2, process.pid]])
  t.ok(effects.every((e) => typeof e.at === 'number' && e.at > 0), 'each effect carries its start time')
})

t.test('a clean ledger passes; abandoned may have zero or one effect, missed none', async (t) => {
  const rows = [
    { job_id: 'a', run_time: at(T1), status: 'success' },
    { job_id: 'a', run_time: at(T2), status: 'error' },
    { job_id: 'b', run_time: at(T1), status: 'abandoned' },
    { job_id: 'b', run_time: at(T2), status: 'abandoned' },
    { job_id: 'c', run_time: at(T1), status: 'missed' }
  ]
  const check = checkEffects([effect('a', T1, 1), effect('a', T2, 2), effect('b', T1, 1)], rows)
  t.same(check, { effects: 3, duplicated: [], missing: [], unrecorded: [], unexpected: [], torn: [] })
})

t.test('two effects of one occurrence are a duplicate even when the table has one success row', async (t) => {
  const check = checkEffects([effect('a', T1, 1), effect('a', T1, 2)], [{ job_id: 'a', run_time: at(T1), status: 'success' }])
  t.equal(check.duplicated.length, 1)
  t.match(check.duplicated[0], /a 2026-01-01T00:00:01.000Z ×2 \(pids 1, 2/)
})

t.test('an abandoned row with two effects is a duplicate too', async (t) => {
  const check = checkEffects([effect('a', T1, 1), effect('a', T1, 2)], [{ job_id: 'a', run_time: at(T1), status: 'abandoned' }])
  t.equal(check.duplicated.length, 1)
})

t.test('a success, error or timeout row without an effect is missing', async (t) => {
  const rows = ['success', 'error', 'timeout'].map((status, i) => ({ job_id: status, run_time: at(T1), status, id: i }))
  const check = checkEffects([], rows)
  t.equal(check.missing.length, 3)
})

t.test('an effect without a row, or for a missed / max_instances row, is flagged', async (t) => {
  const check = checkEffects([effect('a', T1, 1), effect('b', T1, 1), effect('c', T1, 1)], [
    { job_id: 'b', run_time: at(T1), status: 'missed' },
    { job_id: 'c', run_time: at(T1), status: 'max_instances' }
  ])
  t.same(check.unrecorded, ['a 2026-01-01T00:00:01.000Z (pid 1)'])
  t.equal(check.unexpected.length, 2)
})

t.test('run times are compared as instants, whatever their ISO spelling', async (t) => {
  const check = checkEffects([effect('a', '2026-01-01T08:00:01+08:00', 1)], [{ job_id: 'a', run_time: at(T1), status: 'success' }])
  t.same([check.missing, check.unrecorded], [[], []])
})

t.test('a line that does not parse is reported as torn, not silently skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-ledger-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  appendFileSync(join(dir, '42.jsonl'), `${JSON.stringify(effect('a', T1, 42))}\n{"jobId":"a","runT\n`)
  const check = checkLedger(dir, [{ job_id: 'a', run_time: at(T1), status: 'success' }])
  t.equal(check.effects, 1)
  t.equal(check.torn.length, 1)
})
