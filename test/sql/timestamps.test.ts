/**
 * `toDate` on PostgreSQL's own text output. The oracle is the server: it prints random timestamps
 * (microsecond precision, years 1000–9999) as `timestamptz` text and gives each one's exact epoch
 * in microseconds; the parsed Date must hold that epoch floored to milliseconds. In a UTC session
 * the text takes the digit-by-digit path (`utcTextMs`), in others (offsets of whole hours, of
 * half hours, west of UTC, and local mean time with seconds) the ISO fallback.
 */
import t from 'tap'
import pg from 'pg'
import { toDate, utcTextMs } from '../../src/sql/timestamps.js'
import { BASE_URL } from '../helpers/database.js'

const SAMPLES = 3000

async function serverSamples (timeZone: string): Promise<Array<{ text: string, epochUs: string }>> {
  const client = new pg.Client({ connectionString: BASE_URL })
  await client.connect()
  try {
    await client.query(`SET TimeZone = '${timeZone}'`)
    // Random instants, plus the edges: whole seconds, one microsecond either side of a second, before 1970.
    const { rows } = await client.query(
      `WITH t(v) AS (
         SELECT timestamptz '1000-01-01 00:00:00+00' + random() * (timestamptz '9999-12-31 00:00:00+00' - timestamptz '1000-01-01 00:00:00+00')
         FROM generate_series(1, $1)
         UNION ALL SELECT date_trunc('second', now()) UNION ALL SELECT date_trunc('second', now()) + interval '1 microsecond'
         UNION ALL SELECT date_trunc('second', now()) - interval '1 microsecond' UNION ALL SELECT timestamptz '1969-12-31 23:59:59.9995+00'
         UNION ALL SELECT timestamptz '2024-02-29 12:00:00.1+00' UNION ALL SELECT timestamptz '2026-12-06 10:00:00.12+00')
       SELECT v::text AS text, (extract(epoch FROM v) * 1000000)::bigint::text AS "epochUs" FROM t`,
      [SAMPLES]
    )
    return rows
  } finally {
    await client.end()
  }
}

/** floor(epochUs / 1000), in BigInt so that no sample loses precision. */
const epochMs = (epochUs: string): number => {
  const us = BigInt(epochUs)
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n)
  return Number(ms)
}

// Asia/Kolkata and America/Sao_Paulo print local mean time (+05:53:28, -03:06:28) before 1880 and 1914.
for (const timeZone of ['UTC', 'Asia/Kolkata', 'America/Sao_Paulo', 'Etc/GMT-14']) {
  t.test(`PostgreSQL text in a ${timeZone} session`, async (t) => {
    const samples = await serverSamples(timeZone)
    t.ok(samples.length >= SAMPLES, `${samples.length} samples`)
    const wrong = samples.filter((sample) => toDate(sample.text).getTime() !== epochMs(sample.epochUs))
    t.same(wrong.slice(0, 5), [], `every parsed time is the server's epoch floored to milliseconds (${wrong.length} wrong)`)
    const fast = samples.filter((sample) => !Number.isNaN(utcTextMs(sample.text))).length
    if (timeZone === 'UTC') t.equal(fast, samples.length, 'UTC output takes the digit-by-digit path')
    else t.equal(fast, 0, 'other offsets take the ISO fallback')
  })
}

t.test('text the fast path refuses falls back or fails with the value named', async (t) => {
  for (const text of ['2026-02-29 00:00:00+00', '2026-13-01 00:00:00+00', '2026-12-06 24:00:00+00', '2026-12-06 10:00:00.+00', '0999-12-31 23:59:59+00', '2026-12-06T10:00:00+00', '2026-12-06 10:00:00.1234567+00', '2026-12-06 1a:00:00+00']) {
    t.ok(Number.isNaN(utcTextMs(text)), `not read by the fast path: ${text}`)
    const fallback = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'))
    if (Number.isNaN(fallback.getTime())) t.throws(() => toDate(text), new TypeError(`not a timestamp: ${text}`))
    else t.equal(toDate(text).getTime(), fallback.getTime(), `read as the ISO parser reads it: ${text}`)
  }
  t.throws(() => toDate('soon'), new TypeError('not a timestamp: soon'))
  t.throws(() => toDate(Number.NaN), TypeError)
  t.equal(toDate(1_700_000_000_000).getTime(), 1_700_000_000_000, 'epoch milliseconds (SQLite)')
  const date = new Date()
  t.equal(toDate(date), date, 'a Date as it is')
})
