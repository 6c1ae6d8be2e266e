/**
 * The ceiling: the least a durable PostgreSQL scheduler must do per execution, with no library.
 * A plain `job` table and an `execution` history table; claim loops take due rows with
 * `FOR UPDATE SKIP LOCKED` in batches of 1,000, insert their execution rows (`running`) and
 * clear their next run time with `unnest` arrays in one transaction, call a no-op handler, and
 * write the outcomes (`success`, finished_at) with one `UPDATE … FROM unnest` per batch, without
 * waiting for it before the next claim. When nothing is due a loop sleeps until the earliest
 * next run time. Same pool size as ours (10). Every execution is logged, as ours.
 */
import pg from 'pg'
import { sleep } from '../stats.mjs'
import { burstResult, dueInstant } from './common.mjs'

const BATCH = 1000
const LOOPS = 2

export const VARIANTS = {
  default: {
    settings: `pg pool max 10, ${LOOPS} claim loops, batches of ${BATCH}, outcomes written per batch without blocking the next claim`,
    trades: 'everything a scheduler does besides claiming and logging: triggers, next fire times, leases, misfire and max-instances rules, events'
  }
}

export const NOT_APPLICABLE = {
  steady: 'not measured (the ceiling is a throughput bound)',
  adds: 'not measured (the ceiling is a throughput bound)'
}

const SCHEMA = [
  'CREATE TABLE job (id bigint PRIMARY KEY, next_run_time timestamptz)',
  'CREATE INDEX job_next_run_time_idx ON job (next_run_time) WHERE next_run_time IS NOT NULL',
  `CREATE TABLE execution (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_id bigint NOT NULL, run_time timestamptz NOT NULL,
     status text NOT NULL, started_at timestamptz, finished_at timestamptz, UNIQUE (job_id, run_time))`
]

export async function burst (url, { jobs, leadMs }) {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  try {
    for (const statement of SCHEMA) await pool.query(statement)
    const due = dueInstant(leadMs)
    await pool.query('INSERT INTO job SELECT g, $2 FROM generate_series(1, $1) g', [jobs, due])
    await pool.query('ANALYZE job')
    if (Date.now() >= due.getTime()) throw new Error('storing the jobs took past the due instant')
    const lags = []
    const outcomes = []
    let lastRecordedAt = 0
    const claimLoop = async () => {
      while (lags.length < jobs) {
        const client = await pool.connect()
        let claimed
        try {
          await client.query('BEGIN')
          const { rows } = await client.query(
            `SELECT id, next_run_time FROM job WHERE next_run_time <= now()
             ORDER BY next_run_time LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`)
          if (rows.length > 0) {
            const ids = rows.map((r) => r.id)
            const runTimes = rows.map((r) => r.next_run_time)
            const inserted = await client.query(
              `INSERT INTO execution (job_id, run_time, status, started_at)
               SELECT j, r, 'running', now() FROM unnest($1::bigint[], $2::timestamptz[]) AS u(j, r) RETURNING id`, [ids, runTimes])
            await client.query('UPDATE job SET next_run_time = NULL FROM unnest($1::bigint[]) AS u(j) WHERE id = u.j', [ids])
            claimed = { rows, executionIds: inserted.rows.map((r) => r.id) }
          }
          await client.query('COMMIT')
        } finally {
          client.release()
        }
        if (claimed === undefined) {
          const { rows: [{ next }] } = await pool.query('SELECT min(next_run_time) AS next FROM job')
          await sleep(next === null ? 5 : Math.max(0, next.getTime() - Date.now()))
          continue
        }
        const finished = []
        for (const row of claimed.rows) {
          lags.push(Date.now() - row.next_run_time.getTime()) // the no-op handler
          finished.push(new Date())
        }
        outcomes.push(pool.query(
          `UPDATE execution SET status = 'success', finished_at = u.f
           FROM unnest($1::bigint[], $2::timestamptz[]) AS u(i, f) WHERE execution.id = u.i`, [claimed.executionIds, finished])
          .then(() => { lastRecordedAt = Date.now() }))
      }
    }
    await Promise.all(Array.from({ length: LOOPS }, claimLoop))
    await Promise.all(outcomes)
    const { rows: [check] } = await pool.query(
      `SELECT count(*)::int AS rows, count(DISTINCT (job_id, run_time))::int AS occurrences,
              count(*) FILTER (WHERE status = 'success')::int AS success FROM execution`)
    if (check.rows !== jobs || check.occurrences !== jobs || check.success !== jobs) throw new Error(`ceiling logged ${JSON.stringify(check)} for ${jobs} jobs`)
    return burstResult({ jobs, due, lastRecordedAt, lags, note: `${check.success}/${jobs} success rows` })
  } finally {
    await pool.end()
  }
}
