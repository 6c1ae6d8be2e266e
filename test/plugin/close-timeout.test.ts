/**
 * Fastify fails `app.close()` ("Plugin did not start in time") when a preClose hook outlasts
 * `pluginTimeout`. A handler that ignores its signal used to hold the scheduler's shutdown for
 * `shutdownTimeoutMs` and more, so the host's close failed. The shutdown is fitted into
 * `pluginTimeout` less 1 s: close succeeds, and the cut-off run is recorded `abandoned` saying why.
 */
import Fastify from 'fastify'
import t from 'tap'
import { schedulerPlugin } from '../../src/core.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'

t.test('a handler that ignores its signal cannot make app.close() outlast pluginTimeout', async (t) => {
  const url = await freshDatabase(t, 'close_timeout')
  const orm = await openOrm(t, url)
  const PLUGIN_TIMEOUT_MS = 3000
  const app = Fastify({ pluginTimeout: PLUGIN_TIMEOUT_MS })
  let started = false
  await app.register(schedulerPlugin, {
    orm,
    shutdownTimeoutMs: 10_000,
    tasks: { stubborn: async () => { started = true; await new Promise((resolve) => setTimeout(resolve, 60_000).unref()) } }
  })
  await app.ready()
  await app.scheduler.addJob({ id: 'stubborn', task: 'stubborn', trigger: { type: 'date', runDate: new Date(Date.now() + 100).toISOString() } })
  await waitUntil('the handler started', () => started, 20_000)
  const closingAt = performance.now()
  await t.resolves(app.close(), 'app.close() resolves')
  const tookMs = performance.now() - closingAt
  t.ok(tookMs < PLUGIN_TIMEOUT_MS, `close took ${Math.round(tookMs)} ms, within pluginTimeout (${PLUGIN_TIMEOUT_MS} ms)`)
  const [row] = await query<{ status: string, exception: string }>(url, "select status, exception from scheduler_job_execution where job_id = 'stubborn'")
  t.equal(row?.status, 'abandoned')
  t.match(row?.exception, /did not finish within 1\d{3} ms; cut from shutdownTimeoutMs \(10000 ms\) to fit the shutdown's time limit/)
})
