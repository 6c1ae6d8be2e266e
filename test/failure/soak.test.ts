/**
 * The soak (`npm run soak`, soak/run.ts) in short: real worker processes on one database, the
 * leader killed every few seconds, and at the end the execution table compared with the
 * trigger's occurrences. Runs the soak program itself (against src/, with tap's loader) and
 * checks its last line: no duplicate, nothing lost, nothing stuck, failover within 2 s, and from
 * the handlers' effect ledger no occurrence run twice and no row that says it ran without running.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { BASE_URL } from '../helpers/database.js'
import { startProcess, stopProcess, tail } from '../helpers/processes.js'

const SOAK = fileURLToPath(new URL('../../soak/run.ts', import.meta.url))
const LIBRARY = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
const LINE = /^soak: workers=(\d+) occurrences=(\d+) executed=(\d+) duplicates=(\d+) lost=(\d+) missed=(\d+) abandoned=(\d+) stuck=(\d+) failover_max_ms=(\d+) effects_duplicated=(\d+) effects_missing=(\d+) late_outcomes=(\d+)$/

t.test('short soak: leader killed every 4 s, every occurrence exactly once', async (t) => {
  const args = ['--workers', '3', '--jobs', '10', '--interval', '1', '--seconds', '12', '--kill-every', '4', '--lease-ms', '3000', '--library', LIBRARY]
  const soak = startProcess(t, 'soak', [...process.execArgv, SOAK, ...args], { ...process.env, DATABASE_URL: BASE_URL })
  const exit = await stopProcess(soak, null, 110_000)
  const last = soak.output.at(-1) ?? ''
  t.comment(soak.output.filter((line) => line.startsWith('soak:')).join('\n'))
  const match = LINE.exec(last)
  t.ok(match, `the last line is the soak line: ${last}`, { output: tail(soak, 60) })
  if (match === null) return
  const [, workers, occurrences, executed, duplicates, lost, , abandoned, stuck, failoverMaxMs, effectsDuplicated, effectsMissing, lateOutcomes] = match.map(Number) as number[]
  t.equal(workers, 3)
  t.equal(occurrences, 10 * 13, '13 occurrences of each of 10 jobs')
  t.equal(duplicates, 0, 'duplicates=0')
  t.equal(lost, 0, 'lost=0')
  t.equal(stuck, 0, 'stuck=0')
  // From the handlers' ledger, not the table: no occurrence ran twice, no row says it ran without running.
  t.equal(effectsDuplicated, 0, 'effects_duplicated=0')
  t.equal(effectsMissing, 0, 'effects_missing=0')
  t.comment(`late_outcomes=${lateOutcomes} (abandoned rows whose outcome arrived late)`)
  t.equal((executed as number) + (abandoned as number) <= (occurrences as number), true)
  t.ok((failoverMaxMs as number) > 0 && (failoverMaxMs as number) <= 2000, `failover_max_ms=${failoverMaxMs} (bound 2000)`)
  t.same(exit, { code: 0, signal: null }, 'the soak exits 0')
})
