/** `interval` and `date` triggers. */
import t from 'tap'
import { createTrigger } from '../../src/triggers/index.js'
import { assertRefused, fireTimes, instants } from './fire-times.js'

t.test('interval', async (t) => {
  const unanchored = createTrigger({ type: 'interval', minutes: 5 })
  const now = new Date('2027-01-01T10:00:00.250Z')
  t.same(unanchored.getNextFireTime(null, now), now, 'without startDate: now')
  t.same(unanchored.getNextFireTime(now, now), new Date('2027-01-01T10:05:00.250Z'), 'then previous + period')
  t.notOk('startDate' in unanchored.toJSON(), 'toJSON invents no startDate')
  t.same(fireTimes({ type: 'interval', weeks: 1, days: 1, hours: 1, minutes: 1, seconds: 1, startDate: '2027-01-01T00:00:00Z' }, '2027-01-01T00:00:00Z', 2),
    instants('2027-01-01T00:00:00Z', '2027-01-09T01:01:01Z'), 'units add up')
  t.same(fireTimes({ type: 'interval', seconds: 0.5, startDate: '2027-01-01T00:00:00Z' }, '2027-01-01T00:00:00.600Z', 2),
    instants('2027-01-01T00:00:01.000Z', '2027-01-01T00:00:01.500Z'), 'fractional seconds, on the grid from startDate')
  t.same(fireTimes({ type: 'interval', hours: 1, startDate: '2027-01-01T00:00:00Z', endDate: '2027-01-01T02:00:00Z' }, '2026-01-01T00:00:00Z', 4),
    instants('2027-01-01T00:00:00Z', '2027-01-01T01:00:00Z', '2027-01-01T02:00:00Z', 'end'), 'endDate is inclusive')
  t.equal(createTrigger({ type: 'interval', hours: 1, startDate: '2027-01-01T00:00:00Z', endDate: '2027-01-01T02:00:00Z' })
    .getNextFireTime(null, new Date('2027-01-01T02:00:01Z')), null, 'nothing after endDate')
})

t.test('date', async (t) => {
  const trigger = createTrigger({ type: 'date', runDate: '2027-01-01T00:00:00Z' })
  const runDate = new Date('2027-01-01T00:00:00Z')
  t.same(trigger.getNextFireTime(null, new Date('2026-01-01T00:00:00Z')), runDate, 'fires at runDate')
  t.same(trigger.getNextFireTime(null, new Date('2028-01-01T00:00:00Z')), runDate, 'a past runDate is still answered (APScheduler), misfire grace decides')
  t.equal(trigger.getNextFireTime(runDate, runDate), null, 'once only')
})

t.test('getNextFireTime refuses invalid Dates', async (t) => {
  t.throws(() => createTrigger({ type: 'cron', expression: '* * * * *' }).getNextFireTime(null, new Date(Number.NaN)), TypeError)
})

assertRefused(t, { type: 'interval', every: 5 }, 'every', /unknown key 'every' for an 'interval' trigger; allowed: .*seconds/)
assertRefused(t, { type: 'interval', minutes: '5' }, 'minutes', /non-negative number of minutes, got '5'/)
assertRefused(t, { type: 'interval', seconds: 0, minutes: 0 }, 'trigger', /the period is zero/)
assertRefused(t, { type: 'interval', weeks: 1e308 }, 'trigger', /the period is too large/)
assertRefused(t, { type: 'date' }, 'runDate', /required/)
assertRefused(t, { type: 'date', runDate: 20270101 }, 'runDate', /cannot read 20270101 as a date/)
assertRefused(t, { type: 'date', runDate: new Date('2027-01-01T00:00:00Z') }, 'runDate', /got a Date object; .* pass '2027-01-01T00:00:00.000Z' \(date.toISOString\(\)\)/)
assertRefused(t, { type: 'date', runDate: '2027-01-01', startDate: '2027-02-01' }, 'runDate', /before startDate/)
assertRefused(t, { type: 'date', runDate: '2027-03-01', endDate: '2027-02-01' }, 'runDate', /after endDate/)
