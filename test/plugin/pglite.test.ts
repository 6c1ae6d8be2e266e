/**
 * The embedded path: the plugin on MikroORM's PGlite driver. With a data directory, `lock: 'auto'`
 * takes a file lock beside it; jobs persist across restarts of the app.
 *
 * PGlite's Emscripten timers keep a process alive after `close()` (electric-sql/pglite#925); with
 * a data directory they re-arm for good, so this file exits explicitly once its tests are done.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MikroORM } from '@mikro-orm/pglite'
import Fastify from 'fastify'
import t from 'tap'
import { SchedulerJob, SchedulerJobExecution, schedulerPlugin } from '../../src/index.js'

t.teardown(() => setTimeout(() => process.exit(), 100))

async function appOn (dataDir: string) {
  const orm = await MikroORM.init({ dbName: dataDir, entities: [SchedulerJob, SchedulerJobExecution] })
  const app = Fastify()
  await app.register(schedulerPlugin, { orm, tasks: { tick: async () => {} } })
  return { app, orm }
}

t.test('runs jobs on PGlite with a file lock beside the data directory, and keeps them across restarts', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'fms-pglite-')), 'data')
  const lockFile = `${dataDir}.scheduler.lock`
  const first = await appOn(dataDir)
  await first.app.ready()
  t.equal(first.app.scheduler.status().lock, 'file', "lock: 'auto' resolves to a file lock on PGlite with a data directory")
  const executed = first.app.scheduler.once('job:executed')
  await first.app.scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'cron', expression: '* * * * * *' } })
  const { execution } = await executed
  t.equal(execution.status, 'success')
  t.ok(existsSync(lockFile), 'the file lock is held while running')
  t.equal(first.app.scheduler.status().isLeader, true)
  await first.app.close()
  await first.orm.close()
  t.notOk(existsSync(lockFile), 'the lock file is removed at shutdown')

  const second = await appOn(dataDir)
  t.teardown(async () => { await second.app.close(); await second.orm.close() })
  await second.app.ready()
  const job = await second.app.scheduler.getJob('tick')
  t.equal(job?.task, 'tick', 'the job survived the restart')
  const history = await second.app.scheduler.getExecutions({ jobId: 'tick' })
  t.ok(history.some((row) => row.id === execution.id), 'so did its execution history')
})

t.test('the plugin refuses a data directory that another live process holds, naming it', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'fms-pglite-held-')), 'data')
  writeFileSync(`${dataDir}.scheduler.lock`, JSON.stringify({ pid: process.ppid, owner: 'other app' }))
  const orm = await MikroORM.init({ dbName: dataDir, entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close())
  const app = Fastify()
  await t.rejects(async () => app.register(schedulerPlugin, { orm }).ready(), { code: 'FST_SCHEDULER_LOCK_HELD', message: new RegExp(`process ${process.ppid} \\(other app\\)`) })
})
