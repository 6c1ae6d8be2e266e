/**
 * The results table (Markdown, so a run can be pasted into RESULTS.md): one line per metric,
 * this project, APScheduler, the ratio (how many times better this project is: >1 = better),
 * and the issue's target with ✓/✗ on full runs.
 */

const lower = 'lower'
const higher = 'higher'

/** Metric lines per row: label, unit, which way is better, value picker, target. */
const METRICS = {
  burst: [
    ['executions/s', '/s', higher, (r) => r.executionsPerSecond, { min: 10_000, ratio: 7 }],
    ['fire lag p50', 'ms', lower, (r) => r.lagMs.p50],
    ['fire lag p99', 'ms', lower, (r) => r.lagMs.p99, { max: 1500 }],
    ['fire lag max', 'ms', lower, (r) => r.lagMs.max]
  ],
  steady: [
    ['fire lag p50', 'ms', lower, (r) => r.lagMs.p50],
    ['fire lag p99', 'ms', lower, (r) => r.lagMs.p99, { max: 100 }],
    ['occurrences run (coalesced when late)', '', higher, (r) => r.lagMs.count],
    ['CPU (of one core)', '%', lower, (r) => r.cpuPercent],
    ['RSS peak', 'MB', lower, (r) => r.rssPeakMb]
  ],
  scale: [
    ['start() → first fire', 'ms', lower, (r) => r.startToFirstFireMs, { max: 3000 }],
    ['RSS peak', 'MB', lower, (r) => r.rssPeakMb, { max: 250 }],
    ['idle CPU (of one core)', '%', lower, (r) => r.idleCpuPercent, { max: 1 }],
    ['claim query uses the index', '', null, (r) => r.usesIndex, { equals: true }]
  ],
  adds: [
    ['addJob, one per call', '/s', higher, (r) => r.singlePerSecond],
    ['addJobs, batched', '/s', higher, (r) => r.batchedPerSecond ?? r.singlePerSecond, { min: 5000 }]
  ]
}

const TITLES = {
  burst: (s) => `burst: ${n(s.jobs)} date jobs due at one instant`,
  steady: (s) => `steady: ${n(s.jobs)} interval jobs at 1 s for ${s.seconds} s`,
  scale: (s) => `scale: ${n(s.jobs)} stored jobs, ${s.due + s.ticking} due`,
  adds: (s) => `adds: ${n(s.single)} single, ${n(s.batched)} in batches of ${n(s.batchSize)}`
}

function n (value, digits = 0) {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function show (value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  const digits = Math.abs(value) >= 100 ? 0 : 1
  return `${n(value, digits)}${unit === '/s' || unit === '' ? '' : ` ${unit}`}`
}

function ratio (ours, theirs, better) {
  if (better === null || typeof ours !== 'number' || typeof theirs !== 'number') return ''
  const r = better === higher ? ours / theirs : theirs / Math.max(ours, 0.1)
  return Number.isFinite(r) ? `${n(r, r >= 10 ? 0 : 1)}×` : ''
}

function target (spec, unit, ours, oursRatio, full) {
  if (spec === undefined) return ''
  const text = spec.equals !== undefined
    ? 'yes'
    : spec.min !== undefined ? `≥ ${n(spec.min)}${spec.ratio !== undefined ? ` (≥ ${spec.ratio}×)` : ''}` : `≤ ${n(spec.max)} ${unit}`
  if (!full || ours === undefined) return text
  const ok = spec.equals !== undefined
    ? ours === spec.equals
    : spec.min !== undefined ? ours >= spec.min && (spec.ratio === undefined || oursRatio === '' || parseFloat(oursRatio.replace(/,/g, '')) >= spec.ratio) : ours <= spec.max
  return `${text} ${ok ? '✓' : '✗'}`
}

/** Markdown lines for `results` ({ row: { ours, theirs, sizes } }). */
export function formatTable (results, { full, theirsName }) {
  const lines = [
    `| row | metric | fastify-mikro-scheduler | ${theirsName} | ratio | target |`,
    '| --- | --- | ---: | ---: | ---: | --- |'
  ]
  for (const [row, { ours, theirs, sizes }] of Object.entries(results)) {
    METRICS[row].forEach(([label, unit, better, pick, spec], i) => {
      const o = ours?.error === undefined ? pick(ours) : undefined
      const t = theirs === null || theirs?.error !== undefined ? undefined : pick(theirs)
      const theirsCell = theirs === null ? 'skipped' : theirs.error !== undefined ? 'error' : show(t, unit)
      const r = ratio(o, t, better)
      lines.push(`| ${i === 0 ? TITLES[row](sizes) : ''} | ${label} | ${ours.error !== undefined ? 'error' : show(o, unit)} | ${theirsCell} | ${r} | ${target(spec, unit, o, r, full)} |`)
    })
  }
  return lines
}
