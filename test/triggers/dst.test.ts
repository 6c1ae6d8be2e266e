/**
 * DST rules of DESIGN.md, for both cron forms and for dates, in zones with one-hour shifts
 * (America/New_York, Europe/Berlin, Australia/Sydney and, historically, America/Sao_Paulo,
 * whose clocks jumped at midnight) and Australia/Lord_Howe's 30-minute shift. Every instant is
 * spelled out in UTC with its wall time in the comment (checked against Intl).
 *
 * Rules: a wall time in a gap fires shifted forward by the gap (02:30 → 03:30); in a repeated
 * hour a fixed hour fires once, at the first occurrence, and hour `*` fires at every real occurrence.
 */
import t from 'tap'
import { createTrigger } from '../../src/triggers/index.js'
import { fireTimes, instants } from './fire-times.js'

interface Row {
  name: string
  trigger: unknown
  start: string
  fires: string[]
}

const springForward: Row[] = [
  {
    name: 'New York, fields { hour: 2, minute: 30 }: 02:30 does not exist on 2027-03-14, fires at 03:30 EDT',
    trigger: { type: 'cron', fields: { hour: 2, minute: 30 }, timezone: 'America/New_York' },
    start: '2027-03-13T00:00:00-05:00',
    fires: ['2027-03-13T07:30:00Z' /* 02:30 EST */, '2027-03-14T07:30:00Z' /* 03:30 EDT */, '2027-03-15T06:30:00Z' /* 02:30 EDT */]
  },
  {
    name: 'New York, fields { minute: 30 } (hour *): the shifted 02:30 is the real 03:30, fired once',
    trigger: { type: 'cron', fields: { minute: 30 }, timezone: 'America/New_York' },
    start: '2027-03-14T05:00:00Z',
    fires: ['2027-03-14T05:30:00Z' /* 00:30 EST */, '2027-03-14T06:30:00Z' /* 01:30 EST */, '2027-03-14T07:30:00Z' /* 03:30 EDT */, '2027-03-14T08:30:00Z' /* 04:30 EDT */]
  },
  {
    name: 'New York, asked at 03:10 EDT on the gap day: the shifted 02:30 (03:30 EDT) is still ahead',
    trigger: { type: 'cron', expression: '30 2 * * *', timezone: 'America/New_York' },
    start: '2027-03-14T07:10:00Z',
    fires: ['2027-03-14T07:30:00Z' /* 03:30 EDT */, '2027-03-15T06:30:00Z' /* 02:30 EDT */]
  },
  {
    name: 'Berlin, crontab 30 2 * * *: 02:30 does not exist on 2027-03-28, fires at 03:30 CEST',
    trigger: { type: 'cron', expression: '30 2 * * *', timezone: 'Europe/Berlin' },
    start: '2027-03-27T00:00:00+01:00',
    fires: ['2027-03-27T01:30:00Z' /* 02:30 CET */, '2027-03-28T01:30:00Z' /* 03:30 CEST */, '2027-03-29T00:30:00Z' /* 02:30 CEST */]
  },
  {
    name: 'Lord Howe (30-minute gap 02:00-02:30 on 2026-10-04), crontab 15 2 * * *: 02:15 fires at 02:45 +11',
    trigger: { type: 'cron', expression: '15 2 * * *', timezone: 'Australia/Lord_Howe' },
    start: '2026-10-03T00:00:00+10:30',
    fires: ['2026-10-02T15:45:00Z' /* 02:15 +10:30 */, '2026-10-03T15:45:00Z' /* 02:45 +11 */, '2026-10-04T15:15:00Z' /* 02:15 +11 */]
  },
  {
    name: 'Lord Howe, fields { hour: 2, minute: 15 }: same as the crontab form',
    trigger: { type: 'cron', fields: { hour: 2, minute: 15 }, timezone: 'Australia/Lord_Howe' },
    start: '2026-10-03T00:00:00+10:30',
    fires: ['2026-10-02T15:45:00Z', '2026-10-03T15:45:00Z', '2026-10-04T15:15:00Z']
  },
  {
    name: 'Sydney (southern hemisphere, gap 02:00-03:00 on 2026-10-04), crontab 30 2 * * *',
    trigger: { type: 'cron', expression: '30 2 * * *', timezone: 'Australia/Sydney' },
    start: '2026-10-03T00:00:00+10:00',
    fires: ['2026-10-02T16:30:00Z' /* 02:30 AEST */, '2026-10-03T16:30:00Z' /* 03:30 AEDT */, '2026-10-04T15:30:00Z' /* 02:30 AEDT */]
  },
  {
    name: 'Sao Paulo 2018 (midnight did not exist on 2018-11-04), @daily fires at 01:00 -02',
    trigger: { type: 'cron', expression: '@daily', timezone: 'America/Sao_Paulo' },
    start: '2018-11-03T00:00:00-03:00',
    fires: ['2018-11-03T03:00:00Z' /* 00:00 -03 */, '2018-11-04T03:00:00Z' /* 01:00 -02 */, '2018-11-05T02:00:00Z' /* 00:00 -02 */]
  }
]

const fallBack: Row[] = [
  {
    name: 'New York, fields { hour: \'1-2\', minute: 30 } (restricted hour): 01:30 fires once on 2026-11-01, at 01:30 EDT',
    trigger: { type: 'cron', fields: { hour: '1-2', minute: 30 }, timezone: 'America/New_York' },
    start: '2026-11-01T00:00:00-04:00',
    fires: ['2026-11-01T05:30:00Z' /* 01:30 EDT */, '2026-11-01T07:30:00Z' /* 02:30 EST */, '2026-11-02T06:30:00Z' /* 01:30 EST */]
  },
  {
    name: 'New York, fields { minute: 30 } (hour *): 01:30 fires at both real occurrences',
    trigger: { type: 'cron', fields: { minute: 30 }, timezone: 'America/New_York' },
    start: '2026-11-01T04:00:00Z',
    fires: ['2026-11-01T04:30:00Z' /* 00:30 EDT */, '2026-11-01T05:30:00Z' /* 01:30 EDT */, '2026-11-01T06:30:00Z' /* 01:30 EST */, '2026-11-01T07:30:00Z' /* 02:30 EST */]
  },
  {
    name: 'New York, crontab */20 * * * * asked at 01:45 EDT: next is 01:00 EST, earlier on the wall clock but later in time',
    trigger: { type: 'cron', expression: '*/20 * * * *', timezone: 'America/New_York' },
    start: '2026-11-01T05:45:00Z',
    fires: ['2026-11-01T06:00:00Z' /* 01:00 EST */, '2026-11-01T06:20:00Z', '2026-11-01T06:40:00Z', '2026-11-01T07:00:00Z' /* 02:00 EST */]
  },
  {
    name: 'New York, fixed 01:30 asked during the second 01:00 hour: the day\'s occurrence has passed',
    trigger: { type: 'cron', expression: '30 1 * * *', timezone: 'America/New_York' },
    start: '2026-11-01T06:10:00Z' /* 01:10 EST */,
    fires: ['2026-11-02T06:30:00Z' /* 01:30 EST next day */]
  },
  {
    name: 'Berlin, crontab 30 2 * * *: 02:30 repeats on 2026-10-25, fires at 02:30 CEST only',
    trigger: { type: 'cron', expression: '30 2 * * *', timezone: 'Europe/Berlin' },
    start: '2026-10-24T00:00:00+02:00',
    fires: ['2026-10-24T00:30:00Z' /* 02:30 CEST */, '2026-10-25T00:30:00Z' /* first 02:30 CEST */, '2026-10-26T01:30:00Z' /* 02:30 CET */]
  },
  {
    name: 'Berlin, crontab */30 * * * * (hour *): both 02:00 and both 02:30 fire',
    trigger: { type: 'cron', expression: '*/30 * * * *', timezone: 'Europe/Berlin' },
    start: '2026-10-25T00:00:00Z',
    fires: ['2026-10-25T00:00:00Z' /* 02:00 CEST */, '2026-10-25T00:30:00Z' /* 02:30 CEST */, '2026-10-25T01:00:00Z' /* 02:00 CET */, '2026-10-25T01:30:00Z' /* 02:30 CET */, '2026-10-25T02:00:00Z' /* 03:00 CET */]
  },
  {
    name: 'Lord Howe (01:30-02:00 repeats on 2027-04-04), crontab 45 1 * * *: first occurrence only',
    trigger: { type: 'cron', expression: '45 1 * * *', timezone: 'Australia/Lord_Howe' },
    start: '2027-04-03T00:00:00+11:00',
    fires: ['2027-04-02T14:45:00Z' /* 01:45 +11 */, '2027-04-03T14:45:00Z' /* first 01:45 +11 */, '2027-04-04T15:15:00Z' /* 01:45 +10:30 */]
  },
  {
    name: 'Lord Howe, crontab */15 * * * * (hour *): the repeated half hour fires twice',
    trigger: { type: 'cron', expression: '*/15 * * * *', timezone: 'Australia/Lord_Howe' },
    start: '2027-04-03T14:00:00Z',
    fires: [
      '2027-04-03T14:00:00Z' /* 01:00 +11 */, '2027-04-03T14:15:00Z', '2027-04-03T14:30:00Z' /* 01:30 +11 */, '2027-04-03T14:45:00Z' /* 01:45 +11 */,
      '2027-04-03T15:00:00Z' /* 01:30 +10:30 */, '2027-04-03T15:15:00Z' /* 01:45 +10:30 */, '2027-04-03T15:30:00Z' /* 02:00 +10:30 */
    ]
  },
  {
    name: 'Sydney (02:00-03:00 repeats on 2027-04-04), fields { hour: 2, minute: 30 }: first occurrence only',
    trigger: { type: 'cron', fields: { hour: 2, minute: 30 }, timezone: 'Australia/Sydney' },
    start: '2027-04-03T00:00:00+11:00',
    fires: ['2027-04-02T15:30:00Z' /* 02:30 AEDT */, '2027-04-03T15:30:00Z' /* first 02:30 AEDT */, '2027-04-04T16:30:00Z' /* 02:30 AEST */]
  },
  {
    name: 'Sao Paulo 2019 (23:00-24:00 repeated on 2019-02-16), crontab 30 23 * * *: first occurrence only',
    trigger: { type: 'cron', expression: '30 23 * * *', timezone: 'America/Sao_Paulo' },
    start: '2019-02-15T12:00:00-02:00',
    fires: ['2019-02-16T01:30:00Z' /* 23:30 -02 */, '2019-02-17T01:30:00Z' /* first 23:30 -02 */, '2019-02-18T02:30:00Z' /* 23:30 -03 */]
  }
]

const elapsedTime: Row[] = [
  {
    name: 'Sydney, daily interval across the April fall-back: 12:00 AEDT becomes 11:00 AEST',
    trigger: { type: 'interval', days: 1, startDate: '2027-04-03 12:00:00', timezone: 'Australia/Sydney' },
    start: '2027-04-03T00:00:00Z',
    fires: ['2027-04-03T01:00:00Z' /* 12:00 AEDT */, '2027-04-04T01:00:00Z' /* 11:00 AEST */]
  },
  {
    name: 'New York, daily interval across the March spring-forward: 12:00 EST becomes 13:00 EDT',
    trigger: { type: 'interval', days: 1, startDate: '2027-03-13 12:00:00', timezone: 'America/New_York' },
    start: '2027-03-13T00:00:00Z',
    fires: ['2027-03-13T17:00:00Z' /* 12:00 EST */, '2027-03-14T17:00:00Z' /* 13:00 EDT */]
  }
]

for (const [table, rows] of [['spring forward', springForward], ['fall back', fallBack], ['interval counts elapsed time', elapsedTime]] as const) {
  t.test(table, async (t) => {
    for (const row of rows) {
      t.same(fireTimes(row.trigger, row.start, row.fires.length), instants(...row.fires), row.name)
    }
  })
}

t.test('wall-time dates follow the same rules', async (t) => {
  const runAt = (runDate: string, timezone: string): string =>
    createTrigger({ type: 'date', runDate, timezone }).getNextFireTime(null, new Date(0))!.toISOString()
  t.equal(runAt('2027-03-14 02:30:00', 'America/New_York'), '2027-03-14T07:30:00.000Z', 'in the gap: 03:30 EDT')
  t.equal(runAt('2026-11-01 01:30:00', 'America/New_York'), '2026-11-01T05:30:00.000Z', 'repeated: the first, 01:30 EDT')
  t.equal(runAt('2026-10-04 02:15:00', 'Australia/Lord_Howe'), '2026-10-03T15:45:00.000Z', 'in the 30-minute gap: 02:45 +11')
  t.equal(runAt('2027-04-04 01:45:00', 'Australia/Lord_Howe'), '2027-04-03T14:45:00.000Z', 'repeated half hour: the first, +11')
  t.equal(runAt('2026-12-25T08:00:00+08:00', 'America/New_York'), '2026-12-25T00:00:00.000Z', 'an explicit offset wins over timezone')
})
