/**
 * Fire instants of a wall-clock schedule ({@link CalendarSpec}) in a time zone, with the DST
 * rules of DESIGN.md, for both cron forms:
 *
 * - a wall time that does not exist (spring forward) fires at the instant it would have had
 *   before the gap, that is shifted forward by the gap: 02:30 → 03:30 in a one-hour gap,
 *   02:15 → 02:45 in Lord Howe's 30-minute gap; a shifted time that equals a real fire time fires once;
 * - a wall time that occurs twice (fall back) fires once, at its first occurrence, unless the
 *   schedule allows every hour (hour `*`), in which case it fires at every real occurrence.
 *
 * cron-parser 5 gets the 30-minute case wrong (it skips `15 2 * * *` on Lord Howe's spring-forward
 * day), one reason both forms use this module rather than cron-parser's iterator.
 */
import { type CalendarSpec, nextWallTime } from './calendar-spec.js'
import { DAY_MS } from './civil.js'
import type { Zone } from './zone.js'

/**
 * The first fire instant (epoch ms) at or after `from` (epoch ms) of `spec` read in `zone`,
 * or `null` when there is none (see {@link nextWallTime}).
 *
 * Near a transition a fire instant's wall time can be earlier than the wall time of `from`
 * (second pass of a repeated hour; a shifted gap time), so the search starts that much earlier
 * and keeps the smallest instant ≥ `from`. Elsewhere it costs one wall-time search.
 */
export function firstFireAtOrAfter (spec: CalendarSpec, zone: Zone, from: number): number | null {
  const offset = zone.offsetAt(from)
  let lookBack = 0
  const fallBack = offset - zone.offsetAt(from + DAY_MS)
  if (fallBack > 0 && zone.offsetAt(from + fallBack) < offset) lookBack = fallBack
  const springForward = offset - zone.offsetAt(from - DAY_MS)
  if (springForward > 0 && zone.offsetAt(from - springForward) < offset) lookBack = Math.max(lookBack, springForward)

  let best = Infinity
  let wall = nextWallTime(spec, from + offset - lookBack)
  while (wall !== null) {
    const before = zone.offsetAt(wall - DAY_MS)
    const after = zone.offsetAt(wall + DAY_MS)
    if (before === after) {
      const instant = wall - before
      if (instant >= from && instant < best) best = instant
    } else {
      const early = wall - before
      const late = wall - after
      const earlyIsReal = zone.offsetAt(early) === before
      const lateIsReal = zone.offsetAt(late) === after
      // Neither real: a gap, fire at the instant the wall time had before the transition.
      const first = earlyIsReal || !lateIsReal ? early : late
      if (first >= from && first < best) best = first
      const repeated = earlyIsReal && lateIsReal && late > early
      if (repeated && spec.everyHour && late >= from && late < best) best = late
    }
    // Every later wall time maps to an instant ≥ itself minus the largest nearby offset.
    if (wall - Math.max(before, after) >= best) break
    wall = nextWallTime(spec, wall + 1000)
  }
  return best === Infinity ? null : best
}
