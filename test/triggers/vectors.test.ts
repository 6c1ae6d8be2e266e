/**
 * Every case of test/fixtures/trigger-vectors.json (APScheduler 3.9.1, croniter 1.3.5 and the
 * DST rules of DESIGN.md), run with the protocol of its "about" key.
 */
import fs from 'node:fs'
import t from 'tap'
import { assertRefused, fireTimes, instants } from './fire-times.js'

interface VectorCase {
  id: string
  trigger: unknown
  start: string
  fires: string[]
  exhausted: boolean
}
interface InvalidCase {
  trigger: unknown
  why: string
}
const vectors = JSON.parse(fs.readFileSync(new URL('../fixtures/trigger-vectors.json', import.meta.url), 'utf8')) as {
  cases: VectorCase[]
  invalid: { cases: InvalidCase[] }
}

t.ok(vectors.cases.length >= 29, 'the fixture has its cases')
for (const vector of vectors.cases) {
  t.test(vector.id, async (t) => {
    // One more than listed: an exhausted trigger must then answer null ('end').
    const got = fireTimes(vector.trigger, vector.start, vector.fires.length + 1)
    const expected = instants(...vector.fires)
    t.same(got.slice(0, vector.fires.length), expected, 'fire times')
    if (vector.exhausted) t.equal(got[vector.fires.length], 'end', 'null after the last fire time')
    else t.not(got[vector.fires.length], 'end', 'fires again after the listed ones')
  })
}

/** What each invalid case's error must name: the field path and the problem. */
const expectedRefusals: Record<string, [string, RegExp]> = {
  'empty expression': ['expression', /expected a crontab expression.*got ''/],
  'minute out of range': ['expression', /got value 61 expected range 0-59/],
  'too few fields': ['expression', /expected 5 fields .* got 4/],
  'numeric weekday is ambiguous': ['fields.dayOfWeek', /numbers are ambiguous.*use names/],
  'hour out of range': ['fields.hour', /value 24 is out of range 0-23/],
  'unknown timezone': ['timezone', /unknown time zone 'Mars\/Olympus_Mons'/],
  'no period': ['trigger', /the period is zero/],
  'negative period': ['seconds', /non-negative number of seconds, got -5/],
  'unparseable date': ['runDate', /cannot read 'not a date' as a date/],
  'unknown trigger type': ['type', /unknown trigger type 'weekly'/],
  'startDate after endDate': ['endDate', /is before startDate/]
}
t.equal(vectors.invalid.cases.length, Object.keys(expectedRefusals).length, 'every invalid case has an expectation')
for (const invalid of vectors.invalid.cases) {
  const expectation = expectedRefusals[invalid.why]
  if (expectation === undefined) {
    t.fail(`no expectation for invalid case '${invalid.why}'`)
    continue
  }
  assertRefused(t, invalid.trigger, expectation[0], expectation[1], invalid.why)
}
