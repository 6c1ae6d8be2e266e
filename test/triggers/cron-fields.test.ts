/** APScheduler `fields`: defaults, expressions, ISO weeks, positions, sparse schedules, and refusals naming the field. */
import t from 'tap'
import { assertRefused, fireTimes, instants } from './fire-times.js'

const utc = (fields: Record<string, unknown>): unknown => ({ type: 'cron', fields, timezone: 'UTC' })

t.test('defaults follow APScheduler: after the least significant given field the minimum, before it *', async (t) => {
  t.same(fireTimes(utc({ hour: 9 }), '2027-01-01T10:00:00Z', 2), instants('2027-01-02T09:00:00Z', '2027-01-03T09:00:00Z'), '{ hour: 9 } fires at 09:00:00 daily')
  t.same(fireTimes(utc({ month: 2, hour: 0 }), '2027-01-01T00:00:00Z', 3),
    instants('2027-02-01T00:00:00Z', '2027-02-02T00:00:00Z', '2027-02-03T00:00:00Z'), '{ month: 2, hour: 0 }: day stays *, every day of February')
  t.same(fireTimes(utc({ day: 1, minute: 0 }), '2027-01-01T00:00:00Z', 3),
    instants('2027-01-01T00:00:00Z', '2027-01-01T01:00:00Z', '2027-01-01T02:00:00Z'), '{ day: 1, minute: 0 }: hour stays *, hourly on the 1st')
  t.same(fireTimes(utc({ year: 2099 }), '2026-01-01T00:00:00Z', 2), instants('2099-01-01T00:00:00Z', 'end'), '{ year: 2099 } fires once, at its start')
})

t.test('expressions', async (t) => {
  t.same(fireTimes(utc({ day: '*/10', hour: 0 }), '2027-01-01T00:00:00Z', 4),
    instants('2027-01-01T00:00:00Z', '2027-01-11T00:00:00Z', '2027-01-21T00:00:00Z', '2027-01-31T00:00:00Z'), 'steps count from the range start (day 1)')
  t.same(fireTimes(utc({ minute: '10/25' }), '2027-01-01T00:00:00Z', 3),
    instants('2027-01-01T00:10:00Z', '2027-01-01T00:35:00Z', '2027-01-01T01:10:00Z'), 'a/n runs from a to the maximum')
  t.same(fireTimes(utc({ month: 'JAN,jul', day: 1, hour: 12 }), '2027-01-02T00:00:00Z', 2),
    instants('2027-07-01T12:00:00Z', '2028-01-01T12:00:00Z'), 'month names, any case, in a list')
  t.same(fireTimes(utc({ dayOfWeek: 'sat-sun', hour: 8 }), '2027-01-01T00:00:00Z', 3),
    instants('2027-01-02T08:00:00Z', '2027-01-03T08:00:00Z', '2027-01-09T08:00:00Z'), 'weekday ranges run Monday first: sat-sun is the weekend')
  t.same(fireTimes(utc({ dayOfWeek: '*/2', hour: 0 }), '2027-01-04T00:00:00Z', 4),
    instants('2027-01-04T00:00:00Z', '2027-01-06T00:00:00Z', '2027-01-08T00:00:00Z', '2027-01-10T00:00:00Z'), '*/2 weekdays: mon, wed, fri, sun')
})

t.test('day positions, last day, day AND weekday', async (t) => {
  t.same(fireTimes(utc({ day: '5th fri', hour: 0 }), '2027-01-01T00:00:00Z', 2),
    instants('2027-01-29T00:00:00Z', '2027-04-30T00:00:00Z'), '5th Friday skips months without one')
  t.same(fireTimes(utc({ day: 'last', dayOfWeek: 'fri', hour: 0 }), '2027-01-01T00:00:00Z', 2),
    instants('2027-04-30T00:00:00Z', '2027-12-31T00:00:00Z'), 'day and dayOfWeek both given: both must match')
  t.same(fireTimes(utc({ day: '1,last sun', hour: 0 }), '2027-01-02T00:00:00Z', 2),
    instants('2027-01-31T00:00:00Z', '2027-02-01T00:00:00Z'), 'a list mixing a number and a position')
})

t.test('ISO weeks', async (t) => {
  t.same(fireTimes(utc({ week: 1, dayOfWeek: 'mon', hour: 0 }), '2026-06-01T00:00:00Z', 2),
    instants('2027-01-04T00:00:00Z', '2028-01-03T00:00:00Z'), 'Monday of ISO week 1')
  t.same(fireTimes(utc({ week: 53, dayOfWeek: 'thu', hour: 0 }), '2026-01-01T00:00:00Z', 2),
    instants('2026-12-31T00:00:00Z', '2032-12-30T00:00:00Z'), 'week 53 exists only in some years')
  t.same(fireTimes(utc({ year: 2027, week: 53, hour: 0 }), '2026-06-01T00:00:00Z', 4),
    instants('2027-01-01T00:00:00Z', '2027-01-02T00:00:00Z', '2027-01-03T00:00:00Z', 'end'), 'calendar year with ISO week: 1-3 January 2027 are in week 53 (of 2026), as in APScheduler')
})

t.test('sparse schedules are cheap', async (t) => {
  const started = performance.now()
  t.same(fireTimes(utc({ year: '2030-2032', month: 2, day: 29 }), '2026-01-01T00:00:00Z', 2), instants('2032-02-29T00:00:00Z', 'end'))
  t.same(fireTimes(utc({ month: 2, day: 29, dayOfWeek: 'mon' }), '2026-01-01T00:00:00Z', 2),
    instants('2044-02-29T00:00:00Z', '2072-02-29T00:00:00Z'), '29 February on a Monday')
  t.ok(performance.now() - started < 200, 'well under a second')
})

assertRefused(t, utc({ days: 1 }), 'fields.days', /unknown cron field 'days'; fields are year, month/)
assertRefused(t, utc({}), 'fields', /give at least one of year/)
assertRefused(t, { type: 'cron', fields: 'hour=9' }, 'fields', /expected an object of cron fields/)
assertRefused(t, utc({ hour: '25' }), 'fields.hour', /value 25 is out of range 0-23/)
assertRefused(t, utc({ hour: 1.5 }), 'fields.hour', /expected an integer/)
assertRefused(t, utc({ hour: null }), 'fields.hour', /expected an integer or an expression string/)
assertRefused(t, utc({ year: 1969 }), 'fields.year', /value 1969 is out of range 1970-9999/)
assertRefused(t, utc({ minute: '*/0' }), 'fields.minute', /step 0/)
assertRefused(t, utc({ minute: '*/90' }), 'fields.minute', /step 90 .* larger than its range 0-59/)
assertRefused(t, utc({ minute: '5-' }), 'fields.minute', /cannot read '5-'/)
assertRefused(t, utc({ month: 'foo' }), 'fields.month', /unknown month name 'foo'; use jan, feb/)
assertRefused(t, utc({ dayOfWeek: 'mon-fry' }), 'fields.dayOfWeek', /unknown weekday name 'fry'/)
assertRefused(t, utc({ dayOfWeek: 'sun-mon' }), 'fields.dayOfWeek', /runs backwards.*list/)
assertRefused(t, utc({ dayOfWeek: 0 }), 'fields.dayOfWeek', /cron says 0 = Sunday, APScheduler says 0 = Monday.*names/)
assertRefused(t, utc({ day: '3rd 4' }), 'fields.day', /numbers are ambiguous/)
assertRefused(t, utc({ day: '6th fri' }), 'fields.day', /cannot read '6th fri'.*3rd fri/)
assertRefused(t, utc({ month: 2, day: 30 }), 'fields', /can never fire/)
assertRefused(t, utc({ month: '4,6,9,11', day: 31 }), 'fields', /can never fire/)
assertRefused(t, utc({ year: 2027, month: 2, day: '5th fri' }), 'fields', /can never fire/)
assertRefused(t, utc({ year: 2026, month: 12, week: 1 }), 'fields', /can never fire/)
