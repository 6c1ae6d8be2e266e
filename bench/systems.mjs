/**
 * The systems of one bench run, one entry per table line: this project, the ceiling, each peer
 * twice (documented defaults with fair settings, and its best documented throughput
 * configuration) and APScheduler 3. An entry says, per row, how to run it or why it does not
 * apply; a peer that is not installed or cannot reach its server says why, and the table shows it.
 * On a database other than PostgreSQL, the ceiling, pg-boss and graphile-worker (PostgreSQL only)
 * and BullMQ (Redis) get one line each saying so ("n/a on MariaDB"), never dropped silently.
 */
import { connect } from 'node:net'
import * as aps from './apscheduler/driver.mjs'
import { ROWS } from './cli.mjs'
import * as ours from './node/driver.mjs'
import { runPeer } from './peers/driver.mjs'

const PEERS = [
  { id: 'pg-boss', name: 'pg-boss', module: () => import('./peers/pg-boss.mjs'), stores: 'runs on PostgreSQL only' },
  { id: 'graphile-worker', name: 'graphile-worker', module: () => import('./peers/graphile-worker.mjs'), stores: 'runs on PostgreSQL only' },
  { id: 'bullmq', name: 'BullMQ', package: 'bullmq', module: () => import('./peers/bullmq.mjs'), stores: 'keeps its jobs in Redis, not in the database under test' }
]

const CEILING = { id: 'ceiling', name: 'ceiling (no library, same bookkeeping)', stores: 'is a PostgreSQL program (FOR UPDATE SKIP LOCKED, unnest arrays)' }


/** The one line of a system that does not run on `database`: every row n/a, with the reason. */
function elsewhere ({ id, name, stores }, database) {
  const reason = `n/a on ${database.LABEL}: ${name.split(' (')[0]} ${stores}`
  return { key: id, system: id, label: name, settings: reason, trades: null, missing: null, rows: Object.fromEntries(ROWS.map((row) => [row, reason])) }
}

const NOT_MEASURED = {
  history: 'not measured (10 million rows of its own history: this project only)',
  stored: 'not measured (1,000,000 stored schedules: this project only)',
  'scale-out': 'not measured (worker processes of this project on one database, issue #12: this project only)',
  isolation: 'not measured (heartbeat next to long jobs on worker processes of this project, issue #12: this project only)'
}

/** Resolves true when something accepts a TCP connection at REDIS_URL within 1 s. */
export function redisReachable () {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Table entries: { key, system, label, settings, trades, missing, rows: { row: fn | 'reason' } }.
 * `database`: the databases/*.mjs module of the run. `quick`: the peers run their best variant on
 * the burst row only (a smoke check).
 */
export async function buildSystems ({ database, selected, peers, apscheduler, redisUp, quick, sizes }) {
  const entries = []
  if (selected.includes('ours')) {
    entries.push({
      key: 'ours', system: 'ours', label: 'fastify-mikro-scheduler', settings: ours.description(database), trades: null,
      rows: Object.fromEntries(ROWS.map((row) => [row, 'run'])),
      prepare: (row, s) => ours.prepareOurs(database, row, s)
    })
  }
  const onPostgresql = database.ID === 'postgresql'
  if (!onPostgresql) {
    for (const system of [CEILING, ...PEERS]) if (selected.includes(system.id)) entries.push(elsewhere(system, database))
  }
  if (onPostgresql && selected.includes('ceiling')) {
    const ceiling = await import('./peers/ceiling.mjs')
    entries.push({
      key: 'ceiling', system: 'ceiling', label: CEILING.name,
      settings: ceiling.VARIANTS.default.settings, trades: ceiling.VARIANTS.default.trades,
      rows: { burst: (row, s) => runPeer('ceiling', 'default', row, s), ...ceiling.NOT_APPLICABLE, ...NOT_MEASURED }
    })
  }
  for (const peer of PEERS) {
    if (!onPostgresql || !selected.includes(peer.id)) continue
    const version = peers.versions[peer.package ?? peer.id]
    let missing = version === null ? (peers.reason ?? `${peer.id} is not installed in bench/node_modules`) : null
    if (missing === null && peer.id === 'bullmq' && !redisUp) missing = `Redis at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'} is not reachable`
    const module = missing === null ? await peer.module() : null
    for (const variant of ['default', 'best']) {
      const v = module?.VARIANTS[variant]
      const rows = {}
      for (const row of ROWS) {
        if (NOT_MEASURED[row] !== undefined) rows[row] = NOT_MEASURED[row]
        else if (module?.NOT_APPLICABLE?.[row] !== undefined) rows[row] = module.NOT_APPLICABLE[row]
        else if (quick && (row !== 'burst' || variant !== 'best')) rows[row] = 'skipped in --quick'
        else if (row === 'adds' && variant === 'best') rows[row] = 'as the defaults row (adding does not depend on worker settings)'
        else rows[row] = (r, s) => runPeer(peer.id, variant, r, s)
      }
      entries.push({
        key: `${peer.id}:${variant}`, system: peer.id, variant,
        label: `${peer.name}${version ? ` ${version}` : ''}, ${variant === 'default' ? 'defaults' : 'best'}`,
        settings: v?.settings ?? null, trades: v?.trades ?? null, missing, rows
      })
    }
  }
  if (selected.includes('apscheduler')) {
    const run = aps.runApscheduler(database)
    entries.push({
      key: 'apscheduler', system: 'apscheduler', label: apscheduler.available ? apscheduler.version.split(',')[0] : 'APScheduler 3',
      settings: aps.description(database), trades: 'no execution history (APScheduler 3 keeps none)',
      missing: apscheduler.available ? null : apscheduler.reason,
      rows: {
        burst: run,
        steady: run,
        adds: run,
        history: 'n/a: APScheduler 3 keeps no execution history',
        stored: sizes.stored.jobs > 100_000
          ? 'not measured above 100,000 jobs: APScheduler 3 adds one job per call (about 1,000/s here), so storing 1,000,000 takes over 15 minutes'
          : run,
        'scale-out': NOT_MEASURED['scale-out'],
        isolation: NOT_MEASURED.isolation
      }
    })
  }
  return entries
}
