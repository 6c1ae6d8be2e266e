/**
 * The database URL parser (`parseDatabaseUrl`, shared by the command line and the example app) and
 * the command line's driver loading: which MikroORM package each URL loads, in which order, and the
 * error naming the package to install when none is there (an importer stands in for a missing one).
 */
import t from 'tap'
import { DatabaseUrlError, parseDatabaseUrl } from '../../src/database-url.js'
import { ormOpener, schemaRefusal } from '../../src/cli/drivers.js'

t.test('parseDatabaseUrl: every accepted form', async (t) => {
  t.same(parseDatabaseUrl('postgres://app:pw@db:5432/app'), { dialect: 'postgresql', url: 'postgres://app:pw@db:5432/app', shownUrl: 'postgres://app:***@db:5432/app' })
  t.equal(parseDatabaseUrl('postgresql://db/app').dialect, 'postgresql')
  t.same(parseDatabaseUrl('mysql://root@db:3306/app'), { dialect: 'mysql', scheme: 'mysql', url: 'mysql://root@db:3306/app', shownUrl: 'mysql://root@db:3306/app' })
  t.same(parseDatabaseUrl('mariadb://root:pw@db:3306/app'), { dialect: 'mysql', scheme: 'mariadb', url: 'mysql://root:pw@db:3306/app', shownUrl: 'mariadb://root:***@db:3306/app' }, 'mariadb:// is mysql:// for the drivers')
  t.same(parseDatabaseUrl('sqlite:./app.db'), { dialect: 'sqlite', file: './app.db', shownUrl: 'sqlite:./app.db' })
  t.same(parseDatabaseUrl('sqlite:/var/lib/app.db'), { dialect: 'sqlite', file: '/var/lib/app.db', shownUrl: 'sqlite:/var/lib/app.db' })
  t.same(parseDatabaseUrl('file:./app.db'), { dialect: 'sqlite', file: './app.db', shownUrl: 'file:./app.db' }, "libSQL's file: form")
  t.same(parseDatabaseUrl('file:///var/lib/app.db?mode=rwc'), { dialect: 'sqlite', file: '/var/lib/app.db', shownUrl: 'file:///var/lib/app.db?mode=rwc' })
  for (const [text, message] of [
    ['redis://db/0', /unsupported database URL scheme redis:\/\/; expected postgres:\/\/.*sqlite:<file> or file:<file>/],
    ['db.example.com', /not a database URL: "db\.example\.com"; expected/],
    ['user:pw@db', /unsupported database URL scheme user:\/\//],
    ['sqlite:', /names no SQLite file/],
    ['sqlite::memory:', /names no SQLite file \(an in-memory database/],
    ['file::memory:?cache=shared', /names no SQLite file/]
  ] as const) {
    t.throws(() => parseDatabaseUrl(text), DatabaseUrlError, text)
    t.throws(() => parseDatabaseUrl(text), { message }, text)
  }
  t.throws(() => parseDatabaseUrl('mongodb://u:s3cret@db x'), { message: /^(?!.*s3cret)/ }, 'no password in the message')
})

t.test('the driver packages each URL loads, and the error when none is installed', async (t) => {
  const tried: string[] = []
  const missing = async (name: string): Promise<never> => {
    tried.push(name)
    throw new Error(`Cannot find package '${name}'`)
  }
  await t.rejects(ormOpener(parseDatabaseUrl('mysql://root@db/app'), missing), {
    message: /^the command line needs @mikro-orm\/mysql or @mikro-orm\/mariadb \(the app's MikroORM driver\) for MySQL\/MariaDB URLs such as mysql:\/\/root@db\/app: npm install @mikro-orm\/mariadb \(@mikro-orm\/mysql: Cannot find package/
  })
  t.same(tried, ['@mikro-orm/mysql', '@mikro-orm/mariadb'], "mysql:// prefers MySQL's driver, then MariaDB's")
  tried.length = 0
  await t.rejects(ormOpener(parseDatabaseUrl('mariadb://root@db/app'), missing), { message: /needs @mikro-orm\/mariadb .*npm install @mikro-orm\/mariadb/ })
  t.same(tried, ['@mikro-orm/mariadb'])
  await t.rejects(ormOpener(parseDatabaseUrl('sqlite:./x.db'), missing), { message: /needs @mikro-orm\/libsql .* for SQLite URLs such as sqlite:\.\/x\.db: npm install @mikro-orm\/libsql/ })
  await t.rejects(ormOpener(parseDatabaseUrl('postgres://u:s3cret@db/app'), missing), { message: /needs @mikro-orm\/postgresql .* for PostgreSQL URLs such as postgres:\/\/u:\*\*\*@db\/app/ })

  // The MariaDB driver loads when MySQL's is missing.
  const loaded: string[] = []
  const onlyMariadb = async (name: string): Promise<unknown> => {
    if (name !== '@mikro-orm/mariadb') throw new Error('missing')
    loaded.push(name)
    return { MikroORM: { init: async (options: Record<string, unknown>) => options } }
  }
  const open = await ormOpener(parseDatabaseUrl('mysql://root@db:3306/app'), onlyMariadb)
  t.match(await open(), { clientUrl: 'mysql://root@db:3306/app', forceUtcTimezone: true, debug: false })
  t.same(loaded, ['@mikro-orm/mariadb'])
})

t.test('--schema is refused where there are no schemas', async (t) => {
  t.equal(schemaRefusal('postgresql', 'app'), null)
  t.equal(schemaRefusal('mysql', null), null)
  t.match(schemaRefusal('mysql', 'app'), /MySQL and MariaDB have no schemas/)
  t.match(schemaRefusal('sqlite', 'app'), /SQLite has no schemas/)
})
