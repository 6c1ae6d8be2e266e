/**
 * Whatever a handler throws, rejects with or returns, however hostile the value, nothing reaches
 * the host process and the execution ends with a terminal status: `error` with a best-effort
 * description for every throw and rejection. A catalogue of hostile values is run through real
 * executions on PostgreSQL and MariaDB, with a process-level guard (listeners for `uncaughtException` and
 * `unhandledRejection`) that records anything escaping.
 */
import t from 'tap'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'

const escaped: Array<{ kind: string, value: unknown }> = []
const onUncaught = (value: unknown): void => { escaped.push({ kind: 'uncaughtException', value }) }
const onUnhandled = (value: unknown): void => { escaped.push({ kind: 'unhandledRejection', value }) }
process.on('uncaughtException', onUncaught)
process.on('unhandledRejection', onUnhandled)
t.teardown(() => {
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUnhandled)
})

const thrower = (): never => { throw new Error('trap') }
/** A Proxy every trap of which throws (what it throws is itself hostile). */
function trapEverything (throwing: () => never = thrower): object {
  const traps: ProxyHandler<object> = {}
  for (const trap of ['get', 'set', 'has', 'deleteProperty', 'ownKeys', 'getOwnPropertyDescriptor', 'defineProperty',
    'getPrototypeOf', 'setPrototypeOf', 'isExtensible', 'preventExtensions', 'apply', 'construct'] as const) {
    (traps as Record<string, unknown>)[trap] = throwing
  }
  return new Proxy({}, traps)
}
function revoked (): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const hostileProxy = trapEverything()
const proxyThrowingProxies = trapEverything(() => { throw hostileProxy })
function errorWithThrowingGetters (): Error {
  const error = new Error('has hostile getters')
  for (const key of ['message', 'stack', 'name', 'constructor', 'cause']) {
    Object.defineProperty(error, key, { get () { throw hostileProxy }, configurable: true })
  }
  return error
}
const conversionsThrow = {
  [Symbol.toPrimitive] () { throw new Error('toPrimitive') },
  toString () { throw new Error('toString') },
  valueOf () { throw new Error('valueOf') },
  toJSON () { throw new Error('toJSON') }
}
const nullPrototype = Object.assign(Object.create(null) as object, { reason: 'no prototype' })
const circular: Record<string, unknown> = { name: 'circular' }
circular.self = circular
const circularCause = new Error('first')
const secondCause = new Error('second', { cause: circularCause })
Object.defineProperty(circularCause, 'cause', { value: secondCause })
const thenGetterThrows = { get then () { throw new Error('then getter') } }
const callsBackTwice = { then (resolve: (value: unknown) => void, reject: (reason: unknown) => void) { reject(new Error('first callback')); reject(new Error('second callback')); resolve('third') } }
class HostileNameError extends Error {
  override get name (): string { throw new Error('name getter') }
}

/** name, value; `returns`: the status expected when the handler returns the value instead of throwing it. */
const CATALOGUE: Array<{ name: string, value: () => unknown, returns: 'success' | 'error', exception?: RegExp }> = [
  { name: 'proxy throwing on every trap', value: () => hostileProxy, returns: 'error' },
  { name: 'proxy whose traps throw hostile proxies', value: () => proxyThrowingProxies, returns: 'error' },
  { name: 'revoked proxy', value: revoked, returns: 'error' },
  { name: 'proxy around an Error', value: () => new Proxy(new Error('wrapped'), { getPrototypeOf: thrower, get: thrower }), returns: 'error' },
  { name: 'Error with throwing message/stack/name/constructor/cause getters', value: errorWithThrowingGetters, returns: 'success' },
  { name: 'Error subclass whose name getter throws', value: () => new HostileNameError('subclass'), returns: 'success', exception: /subclass/ },
  { name: 'toPrimitive/toString/valueOf/toJSON throw', value: () => conversionsThrow, returns: 'success' },
  { name: 'null prototype', value: () => nullPrototype, returns: 'success', exception: /no prototype/ },
  { name: 'circular object', value: () => circular, returns: 'success' },
  { name: 'BigInt', value: () => 12345678901234567890n, returns: 'success', exception: /12345678901234567890n/ },
  { name: 'object holding a BigInt', value: () => ({ big: 1n }), returns: 'success' },
  { name: 'symbol', value: () => Symbol('hostile'), returns: 'success', exception: /Symbol\(hostile\)/ },
  { name: 'function', value: () => function namedFunction () {}, returns: 'success', exception: /namedFunction/ },
  { name: 'undefined', value: () => undefined, returns: 'success' },
  { name: 'null', value: () => null, returns: 'success' },
  { name: 'thenable whose then getter throws', value: () => thenGetterThrows, returns: 'error' },
  { name: 'thenable that calls back twice', value: () => callsBackTwice, returns: 'error', exception: /first callback|then/ },
  { name: 'Error whose cause chain is circular', value: () => secondCause, returns: 'success', exception: /second/ },
  { name: 'Error whose cause is a hostile proxy', value: () => new Error('outer', { cause: hostileProxy }), returns: 'success', exception: /outer/ },
  { name: 'Error whose cause is revoked', value: () => new Error('outer', { cause: revoked() }), returns: 'success', exception: /outer/ },
  { name: 'huge string (8 MB)', value: () => 'y'.repeat(8 * 1024 * 1024), returns: 'success', exception: /truncated/ },
  { name: 'NUL bytes and lone surrogates', value: () => new Error('nul \u0000 here, lone \ud800 there, \udc00 too'), returns: 'success', exception: /nul \uFFFD here, lone \uFFFD there, \uFFFD too/ },
  { name: 'string with NUL', value: () => 'a\u0000b', returns: 'success', exception: /a\\u0000b/ }
]

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: hostile thrown, rejected and returned values are recorded; nothing reaches the process`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'hostile', { maxConcurrency: 100 })
    CATALOGUE.forEach((entry, i) => {
      scheduler.registerTask(`throws-${i}`, () => { throw entry.value() })
      scheduler.registerTask(`rejects-${i}`, async () => { await Promise.resolve(); throw entry.value() })
      scheduler.registerTask(`returns-${i}`, () => entry.value())
    })
    await scheduler.start()
    const runs: Array<{ name: string, mode: string, id: number, expected: 'success' | 'error', exception: RegExp | undefined }> = []
    for (const [i, entry] of CATALOGUE.entries()) {
      for (const mode of ['throws', 'rejects', 'returns']) {
        const id = `${mode}-${i}`
        await scheduler.addJob({ id, task: id, trigger: { type: 'interval', seconds: 3600 } })
        const execution = await scheduler.runJob(id, { inProcess: true })
        runs.push({ name: entry.name, mode, id: execution.id, expected: mode === 'returns' ? entry.returns : 'error', exception: mode === 'returns' ? undefined : entry.exception })
      }
    }
    for (const run of runs) {
      let row: { status: string, exception: string | null } | undefined
      try {
        row = await scheduler.waitForExecution(run.id, { timeoutMs: 10_000 })
      } catch (error) {
        t.fail(`${run.mode} ${run.name}: ${(error as Error).message}`)
        continue
      }
      t.equal(row.status, run.expected, `${run.mode} ${run.name}: ${run.expected}`)
      if (run.expected === 'error') t.ok(typeof row.exception === 'string' && row.exception.length > 0, `${run.mode} ${run.name}: described as ${JSON.stringify(row.exception?.slice(0, 120))}`)
      if (run.exception !== undefined) t.match(row.exception, run.exception, `${run.mode} ${run.name}: the description says what was thrown`)
    }
    const stuck = await db.query(url, "select id from scheduler_job_execution where status = 'running'")
    t.same(stuck, [], 'no execution left running')
    t.same(escaped.map(({ kind, value }) => `${kind}: ${safeDescribe(value)}`), [], 'nothing escaped to the process')
    t.ok(scheduler.running, 'the scheduler is still running')
  })

  t.test(`${db.name}: a poison outcome does not sink the outcomes written with it`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'poison_batch', { maxConcurrency: 10 })
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    scheduler.registerTask('good', async () => { await released })
    scheduler.registerTask('poison', async () => { await released; throw new Error(JSON.parse('"binary \\u0000 input"') as string) })
    await scheduler.start()
    await scheduler.addJob({ id: 'good', task: 'good', trigger: { type: 'interval', seconds: 3600 } })
    await scheduler.addJob({ id: 'poison', task: 'poison', trigger: { type: 'interval', seconds: 3600 } })
    const good = await scheduler.runJob('good', { inProcess: true })
    const poison = await scheduler.runJob('poison', { inProcess: true })
    release() // both settle in the same tick: their outcomes go to the database in one batch
    const [goodRow, poisonRow] = await Promise.all([
      scheduler.waitForExecution(good.id, { timeoutMs: 15_000 }),
      scheduler.waitForExecution(poison.id, { timeoutMs: 15_000 })
    ])
    t.equal(goodRow.status, 'success', 'the good outcome is written')
    t.equal(poisonRow.status, 'error')
    t.equal(poisonRow.exception, 'Error: binary \uFFFD input', 'the NUL is replaced, the rest kept')
  })

  t.test(`${db.name}: returned values are kept as results: bounded, sanitised, a note when they cannot be kept`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'results', { maxConcurrency: 20 })
    const cases: Array<{ name: string, value: () => unknown, expected: unknown }> = [
      { name: 'an object', value: () => ({ rows: 3, ok: true, tags: ['a', 'b'] }), expected: { rows: 3, ok: true, tags: ['a', 'b'] } },
      { name: 'a string', value: () => 'done', expected: 'done' },
      { name: 'a number', value: () => 42, expected: 42 },
      { name: 'undefined: no result', value: () => undefined, expected: null },
      { name: 'a Date, through its toJSON', value: () => new Date('2030-01-01T00:00:00Z'), expected: '2030-01-01T00:00:00.000Z' },
      { name: 'NUL and lone surrogates in keys and values', value: () => ({ 'k\u0000ey': 'v\u0000al', lone: 'x\ud800y', nested: [{ 'a\udc00': 1 }] }), expected: { 'k\uFFFDey': 'v\uFFFDal', lone: 'x\uFFFDy', nested: [{ 'a\uFFFD': 1 }] } },
      { name: 'a BigInt', value: () => ({ big: 1n }), expected: /^\[result not stored: not JSON-serialisable: TypeError: .*BigInt/ },
      { name: 'a cycle', value: () => circular, expected: /^\[result not stored: not JSON-serialisable: TypeError: .*circular/i },
      { name: 'a toJSON that throws', value: () => conversionsThrow, expected: /^\[result not stored: not JSON-serialisable: Error: toJSON\]$/ },
      // 70,000 characters and two quotes: 70,002 bytes of JSON.
      { name: 'over 64 KiB', value: () => 'x'.repeat(70_000), expected: '[result not stored: its JSON is larger than the 65536 bytes kept]' },
      { name: 'a hundred million empty slots: refused after 64 KiB of work', value: () => new Array(1e8), expected: '[result not stored: its JSON is larger than the 65536 bytes kept]' },
      { name: 'over 64 KiB only as UTF-8 (30,000 three-byte characters)', value: () => '€'.repeat(30_000), expected: '[result not stored: its JSON is larger than the 65536 bytes kept (90002)]' },
      { name: 'null: no result', value: () => null, expected: null },
      { name: 'a boxed string with NUL', value: () => ({ boxed: new String('a\u0000b') }), expected: { boxed: 'a\uFFFDb' } },
      // 'Error: ' and 492 x are 499 characters: the note's 500-character cut falls inside the first emoji.
      {
        name: 'a toJSON throwing a message cut inside an emoji',
        value: () => ({ toJSON () { throw new Error(`${'x'.repeat(492)}${'😀'.repeat(60)}`) } }),
        expected: `[result not stored: not JSON-serialisable: Error: ${'x'.repeat(492)}\uFFFD\n… [truncated: 619 characters in all, first 500 kept]]`
      }
    ]
    cases.forEach((entry, i) => scheduler.registerTask(`result-${i}`, () => entry.value()))
    await scheduler.start()
    for (const [i, entry] of cases.entries()) {
      await scheduler.addJob({ id: `result-${i}`, task: `result-${i}`, trigger: { type: 'interval', seconds: 3600 } })
      const started = await scheduler.runJob(`result-${i}`, { inProcess: true })
      const done = await scheduler.waitForExecution(started.id, { timeoutMs: 10_000 })
      t.equal(done.status, 'success', `${entry.name}: success`)
      // Read back from the table itself, not through the store's row mapping.
      const [row] = await db.query<{ result: unknown }>(url, 'select result from scheduler_job_execution where id = ?', [started.id])
      if (entry.expected instanceof RegExp) t.match(row?.result, entry.expected, `${entry.name}: a note`)
      else t.same(row?.result, entry.expected, `${entry.name}: stored as returned`)
      t.same(done.result, row?.result, `${entry.name}: the record carries it`)
    }
    t.same(escaped, [], 'nothing escaped to the process')
  })

  function safeDescribe (value: unknown): string {
    try {
      return String((value as Error)?.message ?? value)
    } catch {
      return 'an undescribable value'
    }
  }
}
