/**
 * The issue's targets, computed from one run's medians: this project's burst as a share of the
 * ceiling and as a multiple of the fastest peer's best row, lag p99 against every other system,
 * the history and stored-schedule limits. ✓/✗ only on full runs (quick sizes prove nothing).
 */
import { metric, n } from './table.mjs'

const eps = (r) => r.executionsPerSecond
const burstP99 = (r) => r.lagMs.p99

function mark (ok, full) {
  if (!full || ok === null) return ''
  return ok ? ' ✓' : ' ✗'
}

/** Markdown bullet lines. */
export function targetLines (results, entries, { full }) {
  const out = ['Targets (medians of this run):', '']
  const label = (key) => entries.find((e) => e.key === key)?.label ?? key
  const burst = results.burst?.lines
  if (burst?.ours !== undefined) {
    const ours = metric(burst.ours, eps)
    const ceiling = metric(burst.ceiling, eps)
    if (ours && ceiling) {
      const share = ours.median / ceiling.median
      out.push(`- burst executions/s: ${n(ours.median)} = ${n(share * 100)} % of the ceiling's ${n(ceiling.median)} (target ≥ 60 %)${mark(share >= 0.6, full)}`)
    }
    const bestRows = Object.keys(burst).filter((k) => k.endsWith(':best')).map((k) => ({ k, m: metric(burst[k], eps) })).filter((x) => x.m !== null)
    if (ours && bestRows.length > 0) {
      const fastest = bestRows.reduce((a, b) => (b.m.median > a.m.median ? b : a))
      const ratio = ours.median / fastest.m.median
      out.push(`- burst executions/s: ${n(ratio, 2)}× the fastest peer best row (${label(fastest.k)}: ${n(fastest.m.median)}) (target ≥ 1.5×)${mark(ratio >= 1.5, full)}`)
    }
    out.push(...lowest('burst lag p99', burst, burstP99, label, full))
  }
  const steady = results.steady?.lines
  if (steady?.ours !== undefined) out.push(...lowest('steady lag p99', steady, burstP99, label, full))
  const history = results.history?.lines.ours
  if (history !== undefined) {
    const h = metric(history, eps)
    const base = burst?.ours ? metric(burst.ours, eps) : null
    if (h && base) {
      const change = h.median / base.median - 1
      out.push(`- history: burst on ${n(results.history.sizes.rows)} history rows ${n(h.median)}/s vs ${n(base.median)}/s without: ${change >= 0 ? '+' : ''}${n(change * 100, 1)} % (target within 10 %)${mark(Math.abs(change) <= 0.1 || change > 0, full)}`)
    }
    const del = metric(history, (r) => r.deleteSeconds)
    const during = metric(history, (r) => r.tickLagDuringMs.max)
    const before = metric(history, (r) => r.tickLagBeforeMs.p99)
    if (del) {
      out.push(`- history: deleteOldExecutions of one day took ${n(del.median, 2)} s (target: a few seconds, ≤ 5 s)${mark(del.median <= 5, full)}; ` +
        `tick lag max during it ${during ? `${n(during.median)} ms` : 'n/a (no tick fell due during it)'} vs p99 ${before ? `${n(before.median)} ms` : 'n/a'} before (claims stalled if it grows by seconds)` +
        mark(during === null || before === null ? null : during.median <= before.median + 1000, full))
    }
  }
  const stored = results.stored?.lines.ours
  if (stored !== undefined) {
    const fire = metric(stored, (r) => r.startToFirstFireMs)
    const rss = metric(stored, (r) => r.rssPeakMb)
    if (fire) out.push(`- stored: ${n(results.stored.sizes.jobs)} jobs, start() → first fire ${n(fire.median)} ms (target ≤ 3,000 ms)${mark(fire.median <= 3000, full)}`)
    if (rss) out.push(`- stored: RSS peak ${n(rss.median)} MB (target ≤ 250 MB)${mark(rss.median <= 250, full)}`)
  }
  const scale = results['scale-out']?.lines.ours
  if (scale !== undefined) {
    const counts = results['scale-out'].sizes.processes
    const most = Math.max(...counts)
    const one = metric(scale, (r) => r.executionsPerSecond[1])
    const top = metric(scale, (r) => r.executionsPerSecond[most])
    if (one && top) {
      const ratio = top.median / one.median
      out.push(`- scale-out ${most} processes ≥ 3.5× 1 process: ${n(top.median)}/s vs ${n(one.median)}/s = ${n(ratio, 2)}× (target ≥ 3.5×)${mark(ratio >= 3.5, full)}`)
    }
  }
  const isolation = results.isolation?.lines.ours
  if (isolation !== undefined) {
    const p99 = metric(isolation, (r) => r.lagMs.p99)
    const max = metric(isolation, (r) => r.lagMs.max)
    if (p99) out.push(`- isolation heartbeat lag p99 ≤ 100 ms: ${n(p99.median)} ms (max ${n(max.median)} ms) while ${n(results.isolation.sizes.jobs)} jobs of ${n(results.isolation.sizes.longSeconds)} s run on ${results.isolation.sizes.processes} processes${mark(p99.median <= 100, full)}`)
  }
  if (out.length === 2) out.push('- none for these rows')
  return out
}

function lowest (what, lines, pick, label, full) {
  const ours = metric(lines.ours, pick)
  if (ours === null) return []
  const others = Object.keys(lines).filter((k) => k !== 'ours' && k !== 'ceiling').map((k) => ({ k, m: metric(lines[k], pick) })).filter((x) => x.m !== null)
  if (others.length === 0) return [`- ${what}: ${n(ours.median)} ms (no other system measured)`]
  const best = others.reduce((a, b) => (b.m.median < a.m.median ? b : a))
  return [`- ${what}: ${n(ours.median)} ms; lowest other system ${label(best.k)} ${n(best.m.median)} ms (target: ours the lowest)${mark(ours.median <= best.m.median, full)}`]
}
