/**
 * The host's schema tools leave the tables alone on PGlite too (the embedded dialect): with
 * `schedulerEntities` listed, after the plugin installed the tables, `schema:update` proposes nothing.
 */
import { MikroORM } from '@mikro-orm/pglite'
import Fastify from 'fastify'
import t from 'tap'
import { schedulerEntities, schedulerPlugin } from '../../src/index.js'

// PGlite compiles its WebAssembly at start: slow on a busy machine.
t.setTimeout(600_000)

t.test('PGlite: installed by the plugin, no diff for schedulerEntities', async (t) => {
  const orm = await MikroORM.init({ dbName: 'memory://', entities: [...schedulerEntities] })
  t.teardown(async () => orm.close(true))
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, autoStart: false })
  await app.ready()
  await app.scheduler.start()
  await app.scheduler.shutdown()
  t.equal((await orm.schema.getUpdateSchemaSQL()).trim(), '', 'schema:update proposes nothing')
})
