/** Crontab expressions: Vixie cron day rule, L / nL / #, names, macros, seconds, and refusals. */
import t from 'tap'
import { assertRefused, fireTimes, instants } from './fire-times.js'

const utc = (expression: string): unknown => ({ type: 'cron', expression, timezone: 'UTC' })

t.test('Vixie cron day rule', async (t) => {
  t.same(fireTimes(utc('0 0 13 * fri'), '2026-01-10T00:00:00Z', 3),
    instants('2026-01-13T00:00:00Z', '2026-01-16T00:00:00Z', '2026-01-23T00:00:00Z'), 'both restricted: either matches')
  t.same(fireTimes(utc('0 0 */10 * mon'), '2026-01-01T00:00:00Z', 2),
    instants('2026-05-11T00:00:00Z', '2026-06-01T00:00:00Z'), 'day-of-month starts with *: both must match (odd-step days that are Mondays)')
  t.same(fireTimes(utc('0 0 ? * 1'), '2026-01-01T00:00:00Z', 1), instants('2026-01-05T00:00:00Z'), '? counts as *')
  // 2027-01-02 is a Saturday: of the Saturdays, only those on odd days of the month fire.
  t.same(fireTimes(utc('0 16 */2 * sat'), '2027-01-01T00:00:00Z', 3),
    instants('2027-01-09T16:00:00Z', '2027-01-23T16:00:00Z', '2027-02-13T16:00:00Z'), '*/2 with sat: Saturdays that are odd days')
})

t.test('a weekday range ending in Sunday reads sun as 7 (cronie, croniter)', async (t) => {
  // 2027-01-01 is a Friday.
  t.same(fireTimes(utc('0 0 * * fri-sun'), '2027-01-01T00:00:01Z', 4),
    instants('2027-01-02T00:00:00Z', '2027-01-03T00:00:00Z', '2027-01-08T00:00:00Z', '2027-01-09T00:00:00Z'), 'fri-sun: Friday to Sunday')
  t.same(fireTimes(utc('0 0 * * mon-sun'), '2027-01-01T00:00:01Z', 3),
    instants('2027-01-02T00:00:00Z', '2027-01-03T00:00:00Z', '2027-01-04T00:00:00Z'), 'mon-sun: every day')
  t.same(fireTimes(utc('0 0 * * FRI-SUN/2'), '2027-01-01T00:00:01Z', 3),
    instants('2027-01-03T00:00:00Z', '2027-01-08T00:00:00Z', '2027-01-10T00:00:00Z'), 'fri-sun/2: Friday and Sunday, upper case')
  t.same(fireTimes(utc('0 0 * * sun'), '2027-01-01T00:00:01Z', 1), instants('2027-01-03T00:00:00Z'), 'a lone sun is still Sunday')
})

t.test('special characters, names, macros, seconds', async (t) => {
  t.same(fireTimes(utc('0 0 * * 5L'), '2027-01-01T00:00:00Z', 2), instants('2027-01-29T00:00:00Z', '2027-02-26T00:00:00Z'), '5L: last Friday')
  t.same(fireTimes(utc('0 0 L,15 * *'), '2027-02-01T00:00:00Z', 3),
    instants('2027-02-15T00:00:00Z', '2027-02-28T00:00:00Z', '2027-03-15T00:00:00Z'), 'L in a list')
  t.same(fireTimes(utc('0 0 * * MON#1'), '2027-01-01T00:00:00Z', 2), instants('2027-01-04T00:00:00Z', '2027-02-01T00:00:00Z'), 'upper-case name with #')
  t.same(fireTimes(utc('0 12 * * 7'), '2027-01-01T00:00:00Z', 1), instants('2027-01-03T12:00:00Z'), '7 is Sunday')
  t.same(fireTimes(utc('@weekly'), '2027-01-01T00:00:00Z', 1), instants('2027-01-03T00:00:00Z'), '@weekly: Sunday midnight')
  t.same(fireTimes(utc('@midnight'), '2027-01-01T10:00:00Z', 1), instants('2027-01-02T00:00:00Z'), '@midnight (Vixie) = @daily')
  t.same(fireTimes(utc('@hourly'), '2027-01-01T10:00:01Z', 1), instants('2027-01-01T11:00:00Z'), '@hourly')
  t.same(fireTimes(utc('@yearly'), '2027-01-01T10:00:00Z', 1), instants('2028-01-01T00:00:00Z'), '@yearly')
  t.same(fireTimes(utc('*/20 * * * * *'), '2027-01-01T00:00:01.500Z', 3),
    instants('2027-01-01T00:00:20Z', '2027-01-01T00:00:40Z', '2027-01-01T00:01:00Z'), '6 fields: seconds first; ms round up')
  t.same(fireTimes(utc('0 0 29 2 *'), '2026-01-01T00:00:00Z', 2), instants('2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z'), 'sparse 29 February')
})

t.test('a previous fire time gives the next one strictly after it', async (t) => {
  t.same(fireTimes(utc('0 0 * * *'), '2027-01-01T00:00:00Z', 2), instants('2027-01-01T00:00:00Z', '2027-01-02T00:00:00Z'), 'now on a fire time fires at now, then a day later')
})

assertRefused(t, utc('   '), 'expression', /expected a crontab expression/)
assertRefused(t, { type: 'cron', expression: 5 }, 'expression', /expected a crontab expression.*got 5/)
assertRefused(t, utc('0 0 0 1 1 * 2027'), 'expression', /got 7/)
assertRefused(t, utc('H * * * *'), 'expression', /'H' \(a hashed, random value\) is not supported/)
assertRefused(t, utc('@reboot'), 'expression', /unknown macro '@reboot' \(it names no time/)
assertRefused(t, utc('@fortnightly'), 'expression', /unknown macro '@fortnightly'; use one of @yearly/)
assertRefused(t, utc('0 0 30 2 *'), 'expression', /can never fire/)
assertRefused(t, utc('0 0 31 4,6,9,11 *'), 'expression', /can never fire/)
assertRefused(t, utc('0 25 * * *'), 'expression', /expected range 0-23/)
assertRefused(t, utc('0 0 * * 5-1'), 'expression', /Invalid range: 5-1/)
assertRefused(t, utc('x y z a b'), 'expression', /cannot read 'x y z a b'/)
