/** previewFireTimes, describeTrigger and computeJitterMs. */
import t from 'tap'
import { InvalidTriggerError } from '../../src/errors.js'
import { computeJitterMs, createTrigger, describeTrigger, previewFireTimes } from '../../src/triggers/index.js'

const iso = (dates: Date[]): string[] => dates.map((date) => date.toISOString())

t.test('previewFireTimes', async (t) => {
  const from = new Date('2026-01-01T00:00:00Z')
  const started = performance.now()
  t.same(iso(previewFireTimes({ type: 'cron', expression: '0 0 29 2 *' }, { count: 3, from })),
    ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z', '2036-02-29T00:00:00.000Z'], 'sparse crontab')
  t.same(iso(previewFireTimes({ type: 'cron', fields: { year: 2099 } }, { count: 5, from })), ['2099-01-01T00:00:00.000Z'], 'fewer when exhausted')
  t.equal(previewFireTimes({ type: 'cron', expression: '* * * * * *' }, { count: 1000, from }).length, 1000, 'up to 1000')
  t.ok(performance.now() - started < 1000, 'bounded work')
  t.equal(previewFireTimes({ type: 'cron', expression: '* * * * *' }, { from }).length, 10, 'count defaults to 10')
  t.same(previewFireTimes({ type: 'date', runDate: '2025-01-01T00:00:00Z' }, { from }), [], 'a past date is not previewed')
  t.same(iso(previewFireTimes({ type: 'interval', hours: 1 }, { count: 2, from })), ['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z'], 'unanchored interval starts at from')
  t.throws(() => previewFireTimes({ type: 'cron', expression: '* * * * *' }, { count: 0, from }), RangeError)
  t.throws(() => previewFireTimes({ type: 'cron', expression: '* * * * *' }, { count: 1001, from }), RangeError)
  t.throws(() => previewFireTimes({ type: 'cron', expression: '* * * * *' }, { from: new Date(Number.NaN) }), RangeError)
  t.throws(() => previewFireTimes({ type: 'cron', expression: '' }, { from }), InvalidTriggerError)
})

t.test('describeTrigger', async (t) => {
  const rows: Array<[unknown, string]> = [
    [{ type: 'cron', expression: '30 9 * * mon-fri', timezone: 'Asia/Shanghai' }, 'At 09:30 AM, Monday through Friday (Asia/Shanghai)'],
    [{ type: 'cron', expression: '0 0 13 * fri' }, 'At 12:00 AM, on day 13 of the month, or on Friday (UTC)'],
    [{ type: 'cron', expression: '0 0 1-7 jan mon' }, 'At 12:00 AM, between day 1 and 7 of the month, or on Monday, only in January (UTC)'],
    [{ type: 'cron', expression: '@daily', timezone: 'Asia/Tokyo' }, 'At 12:00 AM (Asia/Tokyo)'],
    [{ type: 'interval', hours: 2, startDate: '2026-11-01 00:00:00', endDate: '2026-11-30 23:59:59', timezone: 'Asia/Shanghai' },
      'Every 2 hours from 2026-11-01 00:00 until 2026-11-30 23:59 (Asia/Shanghai)'],
    [{ type: 'interval', days: 1, hours: 12 }, 'Every 1 day, 12 hours (UTC)'],
    [{ type: 'interval', seconds: 1, jitter: 5 }, 'Every second (UTC), each run delayed at random by up to 5 s'],
    [{ type: 'date', runDate: '2026-12-25 08:00:00', timezone: 'Asia/Shanghai' }, 'Once at 2026-12-25 08:00 (Asia/Shanghai)'],
    [{ type: 'date', runDate: '2026-12-25 08:00:30' }, 'Once at 2026-12-25 08:00:30 (UTC)'],
    [{ type: 'cron', fields: { dayOfWeek: 'mon-fri', hour: 9, minute: 30, second: 10 } }, 'At 09:30:10 AM, Monday through Friday (UTC)'],
    [{ type: 'cron', fields: { day: 'last fri', hour: 17 }, timezone: 'Europe/Berlin' }, 'At 05:00 PM, on the last Friday of the month (Europe/Berlin)'],
    [{ type: 'cron', fields: { day: '1,3rd fri', hour: 17 } }, 'At 05:00 PM, on day 1 of the month, or on the third Friday of the month (UTC)'],
    [{ type: 'cron', fields: { day: 'last', hour: 23, minute: 59 } }, 'At 11:59 PM, on the last day of the month (UTC)'],
    [{ type: 'cron', fields: { week: '1-10', dayOfWeek: 'sat-sun', hour: 8 } }, 'At 08:00 AM, only on Saturday and Sunday, in ISO weeks 1-10 (UTC)'],
    [{ type: 'cron', fields: { dayOfWeek: '*/2', hour: 8 } }, 'At 08:00 AM, only on Monday, Wednesday, Friday, and Sunday (UTC)'],
    [{ type: 'cron', fields: { year: 2099 } }, 'At 12:00 AM, on day 1 of the month, only in January, only in 2099 (UTC)'],
    [{ type: 'or', triggers: [{ type: 'cron', fields: { dayOfWeek: 'mon-fri', hour: 9 } }, { type: 'cron', fields: { dayOfWeek: 'sat,sun', hour: 11 } }] },
      'Whenever any of these fires: at 09:00 AM, Monday through Friday (UTC); or at 11:00 AM, only on Saturday and Sunday (UTC)'],
    [{ type: 'and', jitter: 3, triggers: [{ type: 'cron', expression: '0 0 13 * *' }, { type: 'or', triggers: [{ type: 'cron', expression: '0 0 * * fri' }, { type: 'date', runDate: '2030-01-01' }] }] },
      'Whenever all of these fire at the same instant: at 12:00 AM, on day 13 of the month (UTC); and (whenever any of these fires: at 12:00 AM, only on Friday (UTC); or once at 2030-01-01 00:00 (UTC)), each run delayed at random by up to 3 s']
  ]
  for (const [json, sentence] of rows) t.equal(describeTrigger(json), sentence, sentence)
  t.throws(() => describeTrigger({ type: 'cron', fields: { hour: 24 } }), InvalidTriggerError, 'validates first')
})

t.test('describeTrigger takes a locale option; English is the only language', async (t) => {
  const json = { type: 'cron', expression: '30 9 * * mon-fri' }
  t.equal(describeTrigger(json, { locale: 'en' }), describeTrigger(json))
  t.throws(() => describeTrigger(json, { locale: 'fr' }), { name: 'RangeError', message: /locale 'fr' is not supported; only 'en' is/ })
})

/** mulberry32: a small seeded generator, so jitter tests are deterministic. */
function seeded (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

t.test('computeJitterMs', async (t) => {
  const fire = new Date('2027-01-01T00:00:00Z')
  const trigger = createTrigger({ type: 'cron', expression: '* * * * *', jitter: 30 })
  const random = seeded(42)
  const delays = Array.from({ length: 200 }, () => computeJitterMs(trigger, fire, new Date('2027-01-01T00:01:00Z'), random))
  t.ok(delays.every((delay) => Number.isInteger(delay) && delay >= 0 && delay <= 30_000), 'integers in [0, jitter]')
  t.ok(Math.max(...delays) > 20_000 && Math.min(...delays) < 10_000, 'spread over the range')
  t.same(delays.slice(0, 3), Array.from({ length: 3 }, (_, index) => computeJitterMs(trigger, fire, null, (() => { const r = seeded(42); for (let i = 0; i < index; i++) r(); return r })())), 'deterministic with a seed')
  t.equal(computeJitterMs(trigger, fire, new Date('2027-01-01T00:00:10Z'), () => 0.999999), 9_999, 'stops before the next fire time')
  const ending = createTrigger({ type: 'cron', expression: '* * * * *', jitter: 30, endDate: '2027-01-01T00:00:05Z' })
  t.equal(computeJitterMs(ending, fire, null, () => 0.999999), 5_000, 'never past endDate')
  t.equal(computeJitterMs(createTrigger({ type: 'cron', expression: '* * * * *' }), fire, null, () => 0.5), 0, 'no jitter, no delay')
  t.equal(computeJitterMs(trigger, fire, null, () => 0), 0, 'random 0 gives 0')
})
