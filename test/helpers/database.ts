/**
 * Test databases: every test file gets a database of its own on the real PostgreSQL server
 * (`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test), dropped when the file ends.
 */
import { randomBytes } from 'node:crypto'
import { MikroORM } from '@mikro-orm/postgresql'
import pg from 'pg'
import { schedulerEntities } from '../../src/entities/index.js'

export const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Teardown { teardown(fn: () => unknown): void }

/** Creates an empty database, drops it at the end of `t`. Returns its URL. */
export async function freshDatabase (t: Teardown, label: string): Promise<string> {
  const name = `fms_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: BASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: BASE_URL })
    await dropper.connect()
    await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await dropper.end()
  })
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** A MikroORM instance on `url` with the scheduler's entities; closed at the end of `t`. */
export async function openOrm (t: Teardown, url: string): Promise<MikroORM> {
  const orm = await MikroORM.init({ clientUrl: url, entities: [...schedulerEntities], pool: { min: 0, max: 5 } })
  t.teardown(async () => orm.close(true))
  return orm
}

/** Runs one query on `url` with a short-lived client (for assertions straight on the tables). */
export async function query<Row = Record<string, any>> (url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text, values)).rows as Row[]
  } finally {
    await client.end()
  }
}
