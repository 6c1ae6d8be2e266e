/**
 * Type test (checked by `npm run typecheck`, run by tap as a trivial file): `ctx.em` is the
 * driver-neutral EntityManager by default, and a handler may name its driver's EntityManager.
 */
import type { EntityManager as CoreEntityManager } from '@mikro-orm/core'
import type { EntityManager as PgEntityManager } from '@mikro-orm/postgresql'
import t from 'tap'
import type { Scheduler, TaskContext, TaskHandler } from '../../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
const assertType = <T extends true>(): T | undefined => undefined

assertType<Equal<TaskContext['em'], CoreEntityManager>>()
assertType<Equal<TaskContext<PgEntityManager>['em'], PgEntityManager>>()

// A handler typed for PostgreSQL's EntityManager gets its query builder, and is accepted by registerTask.
const pgHandler = async (ctx: TaskContext<PgEntityManager>, region: string): Promise<number> => {
  const rows = await ctx.em.getConnection().execute('select 1 as one')
  return rows.length + region.length
}
export function typed (scheduler: Scheduler): void {
  const handler: TaskHandler<[string], PgEntityManager> = pgHandler
  scheduler.registerTask('pg', handler)
  scheduler.registerTask('plain', async (ctx) => { assertType<Equal<typeof ctx.em, CoreEntityManager>>() })
}

t.pass('types checked by tsc')
