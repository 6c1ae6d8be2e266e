/**
 * What every peer's scenarios share: the due instant of a burst, the polling of the peer's own
 * table until its completions are committed (the time the last execution was recorded, as the
 * `job:executed` event gives it for this project), and the result objects the table reads.
 */
import pg from 'pg'
import { lagSummary, sleep, until } from '../stats.mjs'

/** A whole second at least `leadMs` after now. */
export const dueInstant = (leadMs = 2000) => new Date(Math.ceil((Date.now() + leadMs) / 1000) * 1000)

/** A small pool on the scenario's database for the harness's own queries (not the peer's). */
export function harnessPool (url) {
  return new pg.Pool({ connectionString: url, max: 1 })
}

/**
 * Polls `countSql` (one integer column `n`) every 10 ms until it reaches `target`; returns the
 * wall-clock time it was first seen there. Resolution 10 ms plus one query.
 */
export async function whenCommitted (pool, countSql, target, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { rows } = await pool.query(countSql)
    if (rows[0].n >= target) return Date.now()
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${rows[0].n}/${target} recorded (${countSql})`)
    await sleep(10)
  }
}

/** The burst row's result: executions/s over (last recorded − due), lag of every handler start. */
export function burstResult ({ jobs, due, lastRecordedAt, lags, note }) {
  return {
    jobs,
    executionsPerSecond: jobs / ((lastRecordedAt - due.getTime()) / 1000),
    lagMs: lagSummary(lags),
    note
  }
}

export async function waitForHandlers (lags, jobs, timeoutMs = 300_000) {
  await until(() => lags.length >= jobs, timeoutMs, `${jobs} handler calls (${lags.length} so far)`, 2)
}

/** Times `single` one-at-a-time adds and `batched` adds in batches of `batchSize`. */
export async function timeAdds ({ single, batched, batchSize }, addOne, addMany) {
  let started = performance.now()
  for (let i = 0; i < single; i++) await addOne(i)
  const singlePerSecond = single / ((performance.now() - started) / 1000)
  started = performance.now()
  for (let offset = 0; offset < batched; offset += batchSize) {
    await addMany(offset, Math.min(batchSize, batched - offset))
  }
  const batchedPerSecond = batched / ((performance.now() - started) / 1000)
  return { single, batched, batchSize, singlePerSecond, batchedPerSecond }
}
