/**
 * stored: N stored jobs, few due. `storedFill` stores one prototype job per trigger kind through
 * `addJobs`, copies them to N jobs with one INSERT … SELECT generate_series (every column of the
 * prototype, whatever the schema holds; only id and name differ), and adds the due ones through
 * `addJobs` (in its own process, so its memory does not count); `stored` then opens a fresh ORM
 * and scheduler and measures
 * start() → first handler call, peak RSS, this process's CPU over an idle window in which only
 * a few 5 s interval jobs fire, and the plan of the claim query the store really sent.
 */
import { countOutcomes, openScheduler } from './harness.mjs'
import { processWindow, sleep, until } from '../stats.mjs'

export async function storedFill (url, { jobs, due, ticking }) {
  const bench = await openScheduler(url)
  const { scheduler, store } = bench
  try {
    for (const task of ['noop', 'due', 'tick']) scheduler.registerTask(task, () => {})
    const now = await store.now()
    const soon = new Date(now.getTime() + 1000).toISOString()
    const far = new Date(now.getTime() + 30 * 86_400_000).toISOString()
    const idle = jobs - due - ticking
    const triggers = [
      { type: 'cron', expression: '0 3 * * *' },
      { type: 'interval', hours: 6, startDate: far },
      { type: 'date', runDate: far }
    ]
    await scheduler.addJobs(triggers.map((trigger, i) => ({ id: `prototype-${i}`, task: 'noop', trigger })))
    const columns = (await bench.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'scheduler_job' ORDER BY ordinal_position`)).map((c) => c.column_name)
    const pick = (column) => column === 'id' ? "'idle-' || g" : column === 'name' ? "'idle-' || g" : `p."${column}"`
    await bench.query(
      `INSERT INTO scheduler_job (${columns.map((c) => `"${c}"`).join(', ')})
       SELECT ${columns.map(pick).join(', ')}
       FROM generate_series(0, $1::int - 1) AS g JOIN scheduler_job p ON p.id = 'prototype-' || (g % ${triggers.length})`,
      [idle - triggers.length])
    await scheduler.addJobs([
      ...Array.from({ length: due }, (_, i) => ({ id: `due-${i}`, task: 'due', trigger: { type: 'date', runDate: soon } })),
      ...Array.from({ length: ticking }, (_, i) => ({ id: `tick-${i}`, task: 'tick', trigger: { type: 'interval', seconds: 5, startDate: soon } }))
    ])
    await bench.query('ANALYZE scheduler_job') // what autovacuum does after a bulk load
    await sleep(Math.max(0, new Date(soon).getTime() - Date.now() + 50))
    return { jobs }
  } finally {
    await bench.close()
  }
}

export async function stored (url, { jobs, due, ticking, idleSeconds }) {
  const bench = await openScheduler(url)
  const { scheduler } = bench
  try {
    let firstFire = 0
    const fired = () => { firstFire ||= performance.now() }
    scheduler.registerTask('noop', () => {}).registerTask('due', fired).registerTask('tick', fired)
    const counts = countOutcomes(scheduler)
    const started = performance.now()
    await scheduler.start()
    await until(() => firstFire > 0, 60_000, 'the first fire')
    const startToFirstFireMs = firstFire - started
    await until(() => counts.executed >= due + ticking, 30_000, 'the due jobs')
    const window = processWindow()
    await sleep(idleSeconds * 1000)
    const { cpuPercent, rssPeakMb } = window()
    const plan = await explain(bench, bench.seen)
    return {
      jobs,
      startToFirstFireMs,
      rssPeakMb,
      idleCpuPercent: cpuPercent,
      plan,
      usesIndex: /Index (Only )?Scan using scheduler_job_next_run_time_idx/.test(plan),
      note: `${counts.executed} executions (${due} due at start, ${ticking} every 5 s), ${counts.failed} failed`
    }
  } finally {
    await bench.close()
  }
}

/** EXPLAIN ANALYZE of the first claim query with the parameters it was sent with, rolled back. */
async function explain (bench, { claimSql, claimValues }) {
  if (claimSql === null) throw new Error('the claim query was never sent')
  const pool = await bench.orm.em.getConnection().getNativeClient()
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${claimSql}`, claimValues)
    return rows.map((row) => row['QUERY PLAN']).join('\n')
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }
}
