/** Common keys, versions, unknown keys, date forms and the toJSON round trip. */
import t from 'tap'
import { createTrigger } from '../../src/triggers/index.js'
import { assertRefused, fireTimes } from './fire-times.js'

t.test('toJSON: normalised, versioned, and read back to the same schedule', async (t) => {
  const json = { type: 'cron', fields: { dayOfWeek: 'mon-fri', hour: 9 }, startDate: '2027-01-01', jitter: 3 }
  const trigger = createTrigger(json)
  const stored = trigger.toJSON()
  t.same(stored, { type: 'cron', version: 1, fields: { dayOfWeek: 'mon-fri', hour: 9 }, timezone: 'UTC', startDate: '2027-01-01', jitter: 3 })
  ;(stored as unknown as { fields: Record<string, unknown> }).fields['hour'] = 10
  t.same(trigger.toJSON(), { ...stored, fields: { dayOfWeek: 'mon-fri', hour: 9 } }, 'a copy: mutating it changes nothing')
  t.same(fireTimes(trigger.toJSON(), '2026-01-01T00:00:00Z', 3), fireTimes(json, '2026-01-01T00:00:00Z', 3), 'same fire times after a round trip')
  t.equal(trigger.jitterSeconds, 3)
  t.equal(createTrigger({ type: 'cron', expression: '* * * * *', jitter: 0 }).jitterSeconds, null, 'jitter 0 is none')
})

t.test('date forms', async (t) => {
  const at = (startDate: string, timezone = 'Asia/Shanghai'): string =>
    createTrigger({ type: 'interval', seconds: 1, startDate, timezone }).getNextFireTime(null, new Date(0))!.toISOString()
  t.equal(at('2027-01-01T00:00:00Z'), '2027-01-01T00:00:00.000Z', 'Z')
  t.equal(at('2027-01-01T08:00:00+08:00'), '2027-01-01T00:00:00.000Z', '+hh:mm')
  t.equal(at('2027-01-01T08:00:00+0800'), '2027-01-01T00:00:00.000Z', '+hhmm')
  t.equal(at('2027-01-01T03:00:00-05'), '2027-01-01T08:00:00.000Z', '-hh')
  t.equal(at('2027-01-01 08:00:00'), '2027-01-01T00:00:00.000Z', 'wall time in timezone')
  t.equal(at('2027-01-01T08:00'), '2027-01-01T00:00:00.000Z', 'wall time without seconds')
  t.equal(at('2027-01-01'), '2026-12-31T16:00:00.000Z', 'a date alone is midnight in timezone')
  t.equal(at('2027-01-01 08:00:00.25'), '2027-01-01T00:00:00.250Z', 'fractional seconds')
})

for (const bad of ['2027-02-29', '2027-13-01', '1969-12-31T00:00:00Z', '2027-01-01 24:00:00', '2027-01-01T00:00:00+25:00', 'tomorrow']) {
  assertRefused(t, { type: 'cron', expression: '* * * * *', startDate: bad }, 'startDate', /cannot read .* as a date/)
}
assertRefused(t, null, 'trigger', /expected a trigger object.*got null/)
assertRefused(t, [], 'trigger', /got an array/)
assertRefused(t, { expression: '* * * * *' }, 'type', /unknown trigger type undefined/)
assertRefused(t, { type: 'cron', expression: '* * * * *', foo: 1 }, 'foo', /unknown key 'foo' for a 'cron' trigger/)
assertRefused(t, { type: 'cron', expression: '* * * * *', foo: 1, bar: 2 }, 'trigger', /unknown keys 'foo', 'bar'/)
assertRefused(t, { type: 'cron', expression: '* * * * *', version: 2 }, 'version', /unsupported trigger JSON version 2; this release reads version 1/)
assertRefused(t, { type: 'cron', expression: '* * * * *', timezone: 42 }, 'timezone', /expected an IANA time zone name/)
assertRefused(t, { type: 'cron', expression: '* * * * *', jitter: -1 }, 'jitter', /non-negative number of seconds/)
assertRefused(t, { type: 'cron', expression: '* * * * *', fields: { hour: 1 } }, 'trigger', /either 'expression'.*not both/)
assertRefused(t, { type: 'cron' }, 'trigger', /give 'expression'.*or 'fields'/)
assertRefused(t, { type: 'cron', fields: { month: 2, day: 29 }, startDate: '2026-03-01', endDate: '2027-12-31' }, 'endDate',
  /never fires before endDate: its first fire time after startDate is 2028-02-29/)
