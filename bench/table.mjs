/**
 * The results as Markdown (so a run can be pasted into RESULTS.md): one table per row with a
 * line per system (median of the repeats, range in brackets), the reasons for every n/a,
 * missing or failed cell under it, and the issue's targets with ✓/✗ on full runs.
 */

const lower = 'lower'
const higher = 'higher'

/** Metric columns per row: label, unit, which way is better, value picker. */
export const METRICS = {
  burst: [
    ['executions/s', '/s', higher, (r) => r.executionsPerSecond],
    ['lag p50', 'ms', lower, (r) => r.lagMs.p50],
    ['lag p99', 'ms', lower, (r) => r.lagMs.p99],
    ['lag max', 'ms', lower, (r) => r.lagMs.max]
  ],
  steady: [
    ['lag p50', 'ms', lower, (r) => r.lagMs.p50],
    ['lag p99', 'ms', lower, (r) => r.lagMs.p99],
    ['occurrences run', '', higher, (r) => r.lagMs.count],
    ['CPU (of one core)', '%', lower, (r) => r.cpuPercent],
    ['RSS peak', 'MB', lower, (r) => r.rssPeakMb]
  ],
  adds: [
    ['one per call', '/s', higher, (r) => r.singlePerSecond],
    ['batched', '/s', higher, (r) => r.batchedPerSecond ?? null]
  ],
  history: [
    ['burst executions/s', '/s', higher, (r) => r.executionsPerSecond],
    ['burst lag p99', 'ms', lower, (r) => r.lagMs.p99],
    ['delete one day', 's', lower, (r) => r.deleteSeconds],
    ['rows deleted', '', null, (r) => r.deletedRows],
    ['tick lag p99 before', 'ms', lower, (r) => r.tickLagBeforeMs.p99],
    ['tick lag max during delete', 'ms', lower, (r) => r.tickLagDuringMs.max],
    ['ticks due during delete', '', null, (r) => r.tickLagDuringMs.count]
  ],
  stored: [
    ['start() → first fire', 'ms', lower, (r) => r.startToFirstFireMs],
    ['RSS peak', 'MB', lower, (r) => r.rssPeakMb],
    ['idle CPU (of one core)', '%', lower, (r) => r.idleCpuPercent],
    ['claim uses the index', '', null, (r) => r.usesIndex ?? null]
  ],
  'scale-out': [
    ['executions/s, 1 process', '/s', higher, (r) => r.executionsPerSecond[1]],
    ['2 processes', '/s', higher, (r) => r.executionsPerSecond[2]],
    ['4 processes', '/s', higher, (r) => r.executionsPerSecond[4]],
    ['4 / 1', '×', higher, (r) => r.executionsPerSecond[4] / r.executionsPerSecond[1]],
    ['lag p99, 4 processes', 'ms', lower, (r) => r.lagMs.p99],
    ['most handlers at once in a process', '', null, (r) => r.peakHandlers ?? null]
  ],
  isolation: [
    ['heartbeat lag p50', 'ms', lower, (r) => r.lagMs.p50],
    ['heartbeat lag p99', 'ms', lower, (r) => r.lagMs.p99],
    ['heartbeat lag max', 'ms', lower, (r) => r.lagMs.max],
    ['heartbeats in window', '', higher, (r) => r.lagMs.count],
    ['long jobs succeeded', '', higher, (r) => r.longSuccess],
    ['most handlers at once in a process', '', null, (r) => r.peakHandlers ?? null]
  ]
}

const TITLES = {
  burst: (s) => `burst: ${n(s.jobs)} one-off jobs due at one instant`,
  steady: (s) => `steady: ${n(s.jobs)} recurring jobs every 1 s for ${s.seconds} s`,
  adds: (s) => `adds: ${n(s.single)} one per call, ${n(s.batched)} in batches of ${n(s.batchSize)}`,
  history: (s) => `history: ${n(s.rows)} execution-history rows over ${s.days} days; burst of ${n(s.jobs)}, then one day deleted while ${n(s.ticking)} jobs fire every 1 s`,
  stored: (s) => `stored: ${n(s.jobs)} stored jobs, ${s.due + s.ticking} due`,
  'scale-out': (s) => `scale-out: ${n(s.jobs)} one-off jobs due at one instant, handler awaits ${n(s.handlerMs)} ms, ` +
    `${s.processes.join(', ')} worker processes (maxConcurrency 10 each) on one database`,
  isolation: (s) => `isolation: ${n(s.jobs)} jobs whose handler awaits ${n(s.longSeconds)} s, started at once, next to a 1 s heartbeat job (first due 500 ms later), ${s.processes} worker processes`
}

export function n (value, digits = 0) {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function show (value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (unit === '×') return `${n(value, 2)}×`
  const digits = Math.abs(value) >= 100 || unit === '' ? 0 : 1
  return `${n(value, digits)}${unit === '/s' || unit === '' ? '' : ` ${unit}`}`
}

/** Median and range of numbers (null when none). */
export function spread (values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = v.length >> 1
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], count: v.length }
}

/** A metric of one system over its successful repeats: { median, min, max, count } | null. */
export function metric (line, pick) {
  return spread((line?.runs ?? []).filter((r) => r.error === undefined).map((r) => { try { return pick(r) } catch { return null } }))
}

function cell (line, pick, unit) {
  if (line.na !== null) return line.na.startsWith('as the defaults') ? '(as defaults)' : line.na.startsWith('skipped') ? 'skipped' : 'n/a'
  if (line.missing) return 'missing'
  const ok = line.runs.filter((r) => r.error === undefined)
  if (ok.length === 0) return 'failed'
  const values = ok.map((r) => { try { return pick(r) } catch { return null } })
  if (values.every((v) => typeof v === 'boolean')) return values.every(Boolean) ? 'yes' : values.some(Boolean) ? 'mixed' : 'no'
  const s = spread(values)
  if (s === null) return 'n/a'
  const failed = line.runs.length - ok.length
  const range = s.count > 1 ? ` (${show(s.min, unit).replace(/ (ms|MB|s|%)$/, '')}–${show(s.max, unit)})` : ''
  return `${show(s.median, unit)}${range}${failed > 0 ? ` [${failed} failed]` : ''}`
}

/** Markdown lines for one row: the table and the reasons under it. */
export function formatRow (row, { sizes, lines }, entries) {
  const metrics = METRICS[row]
  const out = [
    `#### ${TITLES[row](sizes)}`,
    '',
    `| system | ${metrics.map(([label]) => label).join(' | ')} |`,
    `| --- | ${metrics.map(() => '---:').join(' | ')} |`
  ]
  const notes = []
  const folded = new Map() // reason → labels of lines left out of the table for it
  for (const entry of entries) {
    const line = lines[entry.key]
    if (line === undefined) continue
    if (line.na !== null && /^(not measured|skipped)/.test(line.na)) {
      folded.set(line.na, [...(folded.get(line.na) ?? []), entry.label])
      continue
    }
    out.push(`| ${entry.label} | ${metrics.map(([, unit, , pick]) => cell(line, pick, unit)).join(' | ')} |`)
    if (line.na !== null && !line.na.startsWith('as the defaults')) notes.push(`${entry.label}: ${line.na}`)
    else if (line.missing) notes.push(`${entry.label}: missing: ${line.missing}`)
    else {
      for (const r of line.runs) if (r.error !== undefined) notes.push(`${entry.label}: a repeat failed: ${r.error}`)
    }
  }
  for (const [reason, labels] of folded) notes.push(`${labels.join('; ')}: ${reason}`)
  if (notes.length > 0) out.push('', ...notes.map((note) => `- ${note}`))
  return out
}
