/** `and` / `or` (APScheduler AndTrigger / OrTrigger): fire times, nesting, bounds, and member paths in errors. */
import t from 'tap'
import { createTrigger, MAX_AND_ROUNDS } from '../../src/triggers/index.js'
import { assertRefused, fireTimes, instants } from './fire-times.js'

const cron = (expression: string): unknown => ({ type: 'cron', expression })

t.test('or', async (t) => {
  t.same(fireTimes({ type: 'or', triggers: [cron('0 * * * *'), cron('*/30 * * * *')] }, '2027-01-01T00:00:00Z', 3),
    instants('2027-01-01T00:00:00Z', '2027-01-01T00:30:00Z', '2027-01-01T01:00:00Z'), 'a shared time fires once')
  t.same(fireTimes({
    type: 'or',
    triggers: [{ type: 'date', runDate: '2027-01-01T00:10:00Z' }, { type: 'interval', minutes: 20, startDate: '2027-01-01T00:00:00Z', endDate: '2027-01-01T00:40:00Z' }]
  }, '2027-01-01T00:00:00Z', 5), instants('2027-01-01T00:00:00Z', '2027-01-01T00:10:00Z', '2027-01-01T00:20:00Z', '2027-01-01T00:40:00Z', 'end'),
  'members of other types; exhausted when all are')
})

t.test('and', async (t) => {
  t.same(fireTimes({ type: 'and', triggers: [cron('0 0 13 * *'), cron('0 0 * * fri')] }, '2026-01-01T00:00:00Z', 4),
    instants('2026-02-13T00:00:00Z', '2026-03-13T00:00:00Z', '2026-11-13T00:00:00Z', '2027-08-13T00:00:00Z'), 'Friday the 13th')
  t.same(fireTimes({ type: 'and', triggers: [{ type: 'interval', minutes: 90, startDate: '2027-01-01T00:00:00Z' }, cron('0 */3 * * *')] }, '2027-01-01T00:00:01Z', 2),
    instants('2027-01-01T03:00:00Z', '2027-01-01T06:00:00Z'), 'an interval and a cron agree every 3 hours')
  t.same(fireTimes({ type: 'and', triggers: [{ type: 'date', runDate: '2027-01-01T00:00:00Z' }, cron('0 0 * * *')] }, '2026-01-01T00:00:00Z', 2),
    instants('2027-01-01T00:00:00Z', 'end'), 'null once the members cannot agree again')
  t.equal(MAX_AND_ROUNDS, 1000, 'the documented bound')
})

t.test('nesting', async (t) => {
  const json = {
    type: 'or',
    jitter: 2,
    triggers: [
      { type: 'and', triggers: [cron('0 0 13 * *'), cron('0 0 * * fri')] },
      { type: 'date', runDate: '2026-02-01T12:00:00Z' }
    ]
  }
  t.same(fireTimes(json, '2026-01-01T00:00:00Z', 3), instants('2026-02-01T12:00:00Z', '2026-02-13T00:00:00Z', '2026-03-13T00:00:00Z'))
  const trigger = createTrigger(json)
  t.equal(trigger.jitterSeconds, 2, 'jitter of the combination')
  t.same(trigger.toJSON(), {
    type: 'or',
    version: 1,
    triggers: [
      { type: 'and', triggers: [{ type: 'cron', expression: '0 0 13 * *', timezone: 'UTC' }, { type: 'cron', expression: '0 0 * * fri', timezone: 'UTC' }] },
      { type: 'date', runDate: '2026-02-01T12:00:00Z', timezone: 'UTC' }
    ],
    jitter: 2
  }, 'normalised JSON, version on the outermost trigger only')
})

t.test('an and that never agrees is refused fast', async (t) => {
  const started = performance.now()
  t.throws(() => createTrigger({ type: 'and', triggers: [cron('0 0 * * *'), cron('30 * * * *')] }), { message: /triggers: the members never fire at the same instant/ })
  t.throws(() => createTrigger({
    type: 'and',
    triggers: [{ type: 'and', triggers: [cron('*/7 * * * * *'), cron('*/11 * * * * *')] }, cron('30 * * * * *')]
  }), { message: /never fire at the same instant/ }, 'nested ands share the bound')
  t.ok(performance.now() - started < 1000, 'under a second')
})

assertRefused(t, { type: 'or', triggers: [cron('0 9 * * *'), { type: 'cron', fields: { hour: 24 } }] }, 'triggers[1].fields.hour', /value 24 is out of range 0-23/)
assertRefused(t, { type: 'and', triggers: [{ type: 'or', triggers: [cron('0 9 * * *'), cron('61 * * * *')] }] }, 'triggers[0].triggers[1].expression', /expected range 0-59/)
assertRefused(t, { type: 'or', triggers: [{ type: 'interval', minutes: 5 }] }, 'triggers[0].startDate', /needs a startDate/)
assertRefused(t, { type: 'or', triggers: [{ type: 'cron', expression: '* * * * *', jitter: 5 }] }, 'triggers[0].jitter', /set jitter on the enclosing/)
assertRefused(t, { type: 'or', triggers: [] }, 'triggers', /non-empty array/)
assertRefused(t, { type: 'and' }, 'triggers', /non-empty array/)
assertRefused(t, { type: 'or', triggers: [cron('* * * * *')], timezone: 'UTC' }, 'timezone', /unknown key 'timezone' for an 'or' trigger/)
assertRefused(t, { type: 'or', triggers: [null] }, 'triggers[0]', /expected a trigger object/)
assertRefused(t, { type: 'or', triggers: [{ type: 'cron', version: 2, expression: '* * * * *' }] }, 'triggers[0].version', /unsupported trigger JSON version 2/)
