/**
 * The soak (`npm run soak`, soak/run.ts) in short: real worker processes on one database, the
 * leader (and, with `--kill-workers`, a worker that does not lead) killed every few seconds, and at
 * the end the execution table compared with the trigger's occurrences. Runs the soak program
 * itself (against src/, with tap's loader) and checks its last two lines: no duplicate, nothing
 * lost, nothing stuck, failover within 2 s, and from the handlers' effect ledger no occurrence run
 * twice and no row that says it ran without running.
 *
 * PostgreSQL only, for CI time (a long run); the leader kill it repeats runs on MariaDB too in
 * leader-kill.test.ts.
 */
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { BASE_URL } from '../helpers/database.js'
import { startProcess, stopProcess, tail } from '../helpers/processes.js'

// Two soaks of about a minute each (a worker loading TypeScript takes seconds on a busy machine).
t.setTimeout(6 * 60_000)

const SOAK = fileURLToPath(new URL('../../soak/run.ts', import.meta.url))
const LIBRARY = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
const LINE = /^soak: workers=(\d+) occurrences=(\d+) executed=(\d+) duplicates=(\d+) lost=(\d+) missed=(\d+) abandoned=(\d+) stuck=(\d+) failover_max_ms=(\d+) effects_duplicated=(\d+) effects_missing=(\d+) late_outcomes=(\d+)$/
const DISRUPTIONS = /^soak: disruptions=\d+ \(kills=(\d+) worker_kills=(\d+) .*\bcrashes=(\d+) .*\bunexpected_occurrences=(\d+) .*\beffects_unmatched=(\d+)$/

/** Runs the soak with `args`, asserts the accounting every soak must meet, and returns what it counted. */
async function soak (t: Test, args: string[], jobs: number, seconds: number, workerCount: number): Promise<{ kills: number, workerKills: number, abandoned: number } | null> {
  const run = startProcess(t, 'soak', [...process.execArgv, SOAK, ...args, '--library', LIBRARY], { ...process.env, DATABASE_URL: BASE_URL })
  const exit = await stopProcess(run, null, 200_000)
  const last = run.output.at(-1) ?? ''
  // The summary lines (stdout) and the soak's log of kills and failovers (stderr).
  t.comment(run.output.map((line) => line.replace(/^stderr: /, '')).filter((line) => line.startsWith('soak:')).join('\n'))
  const match = LINE.exec(last)
  const disruptions = DISRUPTIONS.exec(run.output.at(-2) ?? '')
  t.ok(match, `the last line is the soak line: ${last}`, { output: tail(run, 60) })
  t.ok(disruptions, `the line before counts the disruptions: ${run.output.at(-2) ?? ''}`)
  if (match === null || disruptions === null) return null
  const [, workers, occurrences, executed, duplicates, lost, , abandoned, stuck, failoverMaxMs, effectsDuplicated, effectsMissing, lateOutcomes] = match.map(Number) as number[]
  const [, kills, workerKills, crashes, unexpected, unmatched] = disruptions.map(Number) as number[]
  t.equal(workers, workerCount)
  t.equal(occurrences, jobs * (seconds + 1), `${seconds + 1} occurrences of each of ${jobs} jobs`)
  t.equal(duplicates, 0, 'duplicates=0')
  t.equal(lost, 0, 'lost=0')
  t.equal(stuck, 0, 'stuck=0 (nothing left running or queued)')
  // From the handlers' ledger, not the table: no occurrence ran twice, no row says it ran without running.
  t.equal(effectsDuplicated, 0, 'effects_duplicated=0')
  t.equal(effectsMissing, 0, 'effects_missing=0')
  t.equal(unmatched, 0, 'effects_unmatched=0: every effect has its row')
  t.equal(unexpected, 0, 'unexpected_occurrences=0')
  t.equal(crashes, 0, 'crashes=0')
  t.comment(`late_outcomes=${lateOutcomes} (abandoned rows whose outcome arrived late)`)
  t.equal((executed as number) + (abandoned as number) <= (occurrences as number), true)
  t.ok((failoverMaxMs as number) > 0 && (failoverMaxMs as number) <= 2000, `failover_max_ms=${failoverMaxMs} (bound 2000)`)
  t.same(exit, { code: 0, signal: null }, 'the soak exits 0')
  return { kills: kills as number, workerKills: workerKills as number, abandoned: abandoned as number }
}

t.test('short soak: leader killed every 4 s, every occurrence exactly once', async (t) => {
  const counted = await soak(t, ['--workers', '3', '--jobs', '10', '--interval', '1', '--seconds', '12', '--kill-every', '4', '--lease-ms', '3000'], 10, 12, 3)
  t.ok((counted?.kills ?? 0) >= 2, `${counted?.kills} leader kills`)
})

t.test('short soak, 4 workers: the leader and other workers killed in turn, every occurrence exactly once', async (t) => {
  // maxConcurrency 3 for 10 jobs a second: the leader queues most runs, so every worker runs handlers when killed.
  const args = ['--workers', '4', '--jobs', '10', '--interval', '1', '--seconds', '40', '--kill-every', '5', '--kill-workers', '--lease-ms', '3000', '--max-concurrency', '3']
  const counted = await soak(t, args, 10, 40, 4)
  // In turn, one every 2.5 s at most; a kill waits while it would leave no standby up (a
  // replacement boots for seconds on a busy machine).
  t.ok((counted?.kills ?? 0) >= 2, `${counted?.kills} leader kills`)
  t.ok((counted?.workerKills ?? 0) >= 2, `${counted?.workerKills} kills of workers that did not lead`)
  t.comment(`abandoned=${counted?.abandoned}: runs the killed processes held`)
})
