/**
 * The ORM of a worker process of the real-process tests (test/cluster/fixtures, test/failure/fixtures): MikroORM's driver
 * chosen from the URL, MariaDB's for `mysql://`, PostgreSQL's otherwise, so one fixture runs on
 * every server database (`SERVER_DATABASES`). The driver is imported on demand: a worker loads one.
 */
import type { MikroORM } from '@mikro-orm/core'

/** `MikroORM.init({ clientUrl: url, ...options })` with the driver of `url`. */
export async function openWorkerOrm (url: string, options: Record<string, unknown>): Promise<MikroORM> {
  const driver: { MikroORM: { init(options: object): Promise<MikroORM> } } = url.startsWith('mysql://')
    ? await import('@mikro-orm/mariadb')
    : await import('@mikro-orm/postgresql')
  return driver.MikroORM.init({ clientUrl: url, ...options })
}
