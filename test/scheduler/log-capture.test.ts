/**
 * `LogCapture` on its own: every call reaches the host's logger exactly as made, and a copy of
 * each line is kept (message formatted as pino formats it, fields, child bindings), sanitised and
 * bounded (the last 200 lines, 64 KiB of JSON, with a note saying how many earlier lines went);
 * hostile values never throw into the handler.
 */
import t from 'tap'
import { LogCapture, MAX_LOG_BYTES } from '../../src/scheduler/log-capture.js'
import type { SchedulerLogger } from '../../src/types.js'

/** A logger that records every call (method, bindings, arguments). */
function recorder (bindings: Record<string, unknown> = {}, calls: Array<{ level: string, bindings: Record<string, unknown>, args: unknown[] }> = []) {
  const logger = { calls } as unknown as SchedulerLogger & { calls: typeof calls }
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) {
    (logger as unknown as Record<string, unknown>)[level] = (...args: unknown[]) => { calls.push({ level, bindings, args }) }
  }
  logger.child = (more: Record<string, unknown>) => recorder({ ...bindings, ...more }, calls)
  return logger
}

const lines = (capture: LogCapture): Array<{ level: string, msg: string, fields: Record<string, unknown>, time: string }> => JSON.parse(capture.json() ?? 'null')

t.test('lines go to the host logger as given, and are kept with fields and child bindings', async (t) => {
  const inner = recorder()
  const capture = new LogCapture(inner)
  const log = capture.logger
  log.info('plain')
  log.info({ rows: 3 }, 'exported %d rows to %s', 3, 'eu')
  log.child({ region: 'eu' }).warn(new Error('slow answer'))
  log.debug('count %d', 7)
  t.same(inner.calls.map((call) => [call.level, call.bindings, call.args]), [
    ['info', {}, ['plain']],
    ['info', {}, [{ rows: 3 }, 'exported %d rows to %s', 3, 'eu']],
    ['warn', { region: 'eu' }, [new Error('slow answer')]],
    ['debug', {}, ['count %d', 7]]
  ], 'the host logger got every call unchanged')
  const kept = lines(capture)
  t.same(kept.map(({ level, msg, fields }) => ({ level, msg, fields })), [
    { level: 'info', msg: 'plain', fields: {} },
    { level: 'info', msg: 'exported 3 rows to eu', fields: { rows: 3 } },
    { level: 'warn', msg: 'slow answer', fields: { region: 'eu', err: 'Error: slow answer' } },
    { level: 'debug', msg: 'count 7', fields: {} }
  ])
  t.ok(kept.every((line) => !Number.isNaN(Date.parse(line.time))), 'each line has its time')
  log.info('after the outcome')
  t.equal(lines(capture).length, 4, 'lines logged after json() are not kept')
})

t.test('nothing logged: no logs', async (t) => {
  t.equal(new LogCapture(recorder()).json(), null)
})

t.test('NUL and lone surrogates in messages, fields and keys are replaced', async (t) => {
  const capture = new LogCapture(recorder())
  capture.logger.info({ 'k\u0000ey': 'v\u0000al', nested: { 'a\ud800': 'x\udc00' } }, 'msg \u0000 here')
  t.same(lines(capture).map(({ msg, fields }) => ({ msg, fields })), [{ msg: 'msg \uFFFD here', fields: { 'k\uFFFDey': 'v\uFFFDal', nested: { 'a\uFFFD': 'x\uFFFD' } } }])
})

t.test('hostile values: a field that cannot be serialised becomes a note; an object that throws on a look is not kept', async (t) => {
  const inner = recorder()
  const capture = new LogCapture(inner)
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  capture.logger.info({ big: 1n, cycle, fine: 'yes' }, 'hostile fields')
  const hostile = new Proxy({}, { ownKeys () { throw new Error('trap') } })
  t.doesNotThrow(() => capture.logger.info(hostile, 'hostile object'))
  t.equal(inner.calls.length, 2, 'both calls reached the host logger')
  const kept = lines(capture)
  t.equal(kept.length, 1, 'the hostile object\'s line is not kept')
  t.equal(kept[0]?.msg, 'hostile fields')
  t.same(Object.keys(kept[0]?.fields ?? {}), ['big', 'cycle', 'fine'])
  t.equal(kept[0]?.fields.big, '[not serialisable: TypeError: Do not know how to serialize a BigInt]')
  t.match(kept[0]?.fields.cycle, /^\[not serialisable: TypeError: Converting circular structure to JSON/)
  t.equal(kept[0]?.fields.fine, 'yes', 'the other fields are kept')
})

t.test('bounded: the last 200 lines, with a note saying how many earlier ones went', async (t) => {
  const capture = new LogCapture(recorder())
  for (let i = 1; i <= 250; i++) capture.logger.info(`line ${i}`)
  const kept = lines(capture)
  t.equal(kept.length, 201, 'a note and 200 lines')
  t.match(kept[0], { level: 'warn', msg: '[… 50 earlier lines not kept: at most 200 lines or 65536 bytes are]' })
  t.equal(kept[1]?.msg, 'line 51')
  t.equal(kept.at(-1)?.msg, 'line 250')
})

t.test('bounded: at most 64 KiB of JSON, the newest lines kept', async (t) => {
  const capture = new LogCapture(recorder())
  // 40 lines of about 4,000 characters: about 160 KB in all.
  for (let i = 1; i <= 40; i++) capture.logger.info(`line ${i} ${'x'.repeat(4000)}`)
  const json = capture.json() as string
  t.ok(Buffer.byteLength(json) <= MAX_LOG_BYTES, `${Buffer.byteLength(json)} bytes`)
  const kept = JSON.parse(json) as Array<{ msg: string }>
  t.match(kept[0]?.msg, /^\[… \d+ earlier lines not kept/)
  t.match(kept.at(-1)?.msg, /^line 40 /, 'the newest line is kept')
  const dropped = Number(/\[… (\d+)/.exec(kept[0]?.msg ?? '')?.[1])
  t.equal(dropped + kept.length - 1, 40, 'every line is either kept or counted in the note')
})

t.test('a level the host logger drops is not kept; the rest of the host logger still answers through ctx.log', async (t) => {
  const inner = recorder() as ReturnType<typeof recorder> & { isLevelEnabled: (level: string) => boolean, level: string, flush: () => string }
  inner.level = 'info'
  inner.isLevelEnabled = (level: string) => level !== 'trace' && level !== 'debug'
  inner.flush = () => 'flushed'
  const child = inner.child
  inner.child = (more: Record<string, unknown>) => Object.assign(child(more), { isLevelEnabled: inner.isLevelEnabled })
  const capture = new LogCapture(inner)
  const log = capture.logger as typeof inner
  log.debug('noisy detail')
  log.info(42)
  log.child({ part: 1 }).trace('dropped too')
  t.equal(inner.calls.length, 3, 'the host logger got all three calls (it drops them itself)')
  t.equal(log.level, 'info', 'level answers')
  t.equal(log.isLevelEnabled('info'), true, 'isLevelEnabled answers')
  t.equal(log.flush(), 'flushed', 'other methods answer')
  t.same(lines(capture).map(({ level, msg }) => [level, msg]), [['info', '42']], 'only the enabled line, a number as its message')
})

t.test('a line whose fields are too large keeps its message and a note instead of them', async (t) => {
  const capture = new LogCapture(recorder())
  capture.logger.info({ rows: Array.from({ length: 5000 }, (_, i) => `row ${i}`) }, 'exported')
  t.same(lines(capture).map(({ msg, fields }) => ({ msg, fields })), [{ msg: 'exported', fields: { note: '[fields not kept: their JSON is larger than 16384 characters]' } }])
})

t.test('a boxed string with NUL is sanitised too', async (t) => {
  const capture = new LogCapture(recorder())
  capture.logger.info({ boxed: new String('a\u0000b') }, 'boxed')
  t.same(lines(capture)[0]?.fields, { boxed: 'a\uFFFDb' })
})
