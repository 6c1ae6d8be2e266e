/**
 * The `fastify-mikro-scheduler` command line as a user runs it: the built bin (`dist/cli/bin.js`,
 * the file package.json's "bin" names) in a child process: PostgreSQL's `--schema`, and exit codes
 * and messages for bad command lines and database URLs. The commands on each database (PostgreSQL,
 * MariaDB, SQLite) are in commands.test.ts, SQLite's file owner and the leader checks in dialects.test.ts.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { buildPackage, ROOT } from '../helpers/build.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { cli } from '../helpers/cli.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'

t.before(buildPackage)
// Each command is a process start plus a database connection: seconds apiece on a busy machine.
t.setTimeout(10 * 60_000)

t.test('package.json names the built bin', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  t.same(pkg.bin, { 'fastify-mikro-scheduler': './dist/cli/bin.js' })
  t.match(await readFile(join(ROOT, 'dist/cli/bin.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the built bin starts with a node shebang')
})

t.test('--schema: the tables of an app whose plugin has a schema option', async (t) => {
  const url = await freshDatabase(t, 'cli_custom_schema')
  const printed = await cli(['schema', 'sql', '--schema', 'hostapp'])
  t.equal(printed.code, 0, printed.stderr)
  t.match(printed.stdout, /^CREATE SCHEMA IF NOT EXISTS "hostapp";/, 'the DDL creates the schema first')
  t.match(printed.stdout, /CREATE TABLE IF NOT EXISTS "hostapp"\.scheduler_job \(/, 'and places every table in it')
  t.equal((await cli(['schema', 'sql', '--schema', ''])).code, 2, 'an empty schema name is a usage error')

  const install = await cli(['schema', 'install', '--schema', 'hostapp', '--database-url', url])
  t.equal(install.code, 0, install.stderr)
  t.match(install.stdout, /installed in schema "hostapp" of postgres:/)
  t.same(await query(url, "SELECT to_regclass('hostapp.scheduler_job')::text AS j, to_regclass('public.scheduler_job')::text AS p"), [{ j: 'hostapp.scheduler_job', p: null }], 'in hostapp, not in public')

  // The app: its store on schema hostapp (as the plugin builds it from { schema: 'hostapp' }).
  const orm = await openOrm(t, url)
  const app = new Scheduler({ store: new MikroOrmJobStore(orm, { schema: 'hostapp' }), orm })
  app.registerTask('work', () => {})
  await app.addJob({ id: 'in-hostapp', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
  const listed = await cli(['jobs', 'list', '--json', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(listed.code, 0, listed.stderr)
  t.same((JSON.parse(listed.stdout) as { jobs: Array<{ id: string }> }).jobs.map((job) => job.id), ['in-hostapp'], 'jobs list finds the job in hostapp')
  const paused = await cli(['jobs', 'pause', 'in-hostapp', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(paused.code, 0, paused.stderr)
  t.same(await query(url, 'SELECT paused FROM hostapp.scheduler_job'), [{ paused: true }], 'and pauses it there')
  const status = await cli(['status', '--json', '--schema', 'hostapp'], { DATABASE_URL: url })
  t.equal(status.code, 0, status.stderr)
  const without = await cli(['jobs', 'list'], { DATABASE_URL: url })
  t.equal(without.code, 1, 'without --schema the tables are not found')
  t.match(without.stderr, /--schema/, 'and the message points at --schema')
})

t.test('usage errors exit 2 and say what to fix; faults exit 1', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /a command is needed: jobs, executions, status, schema/],
    [['frob'], /unknown command 'frob'/],
    [['jobs'], /'jobs' needs a subcommand: jobs list\|show\|pause\|resume\|remove\|run/],
    [['jobs', 'lst'], /unknown subcommand 'jobs lst'/],
    [['jobs', 'show'], /'jobs show' needs <id>/],
    [['jobs', 'show', 'a', 'b'], /unexpected 'b'/],
    [['jobs', 'list', '--wait'], /'jobs list' does not take --wait/],
    [['jobs', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['jobs', 'list', '--paused', '--active', '--database-url', 'postgres://x@127.0.0.1/x'], /--paused and --active exclude each other/],
    [['jobs', 'list', '--limit', 'ten', '--database-url', 'postgres://x@127.0.0.1/x'], /--limit must be a whole number from 1 to 10000; got 'ten'/],
    [['jobs', 'run', 'x', '--timeout', '5s'], /--timeout applies to --wait/],
    [['executions', 'prune'], /needs --older-than DURATION, such as --older-than 7d/],
    [['executions', 'prune', '--older-than', '7 days'], /--older-than must be a whole number with a unit \(s, m, h, d, w\), such as 7d; got '7 days'/],
    [['executions', 'show', 'abc'], /an execution id is a positive whole number; got 'abc'/],
    [['executions', 'list', '--status', 'done', '--database-url', 'postgres://x@127.0.0.1/x'], /--status must be one of queued, running, success/],
    [['status'], /no database: pass --database-url \(postgres:\/\/user@host:5432\/db, mysql:\/\/user@host:3306\/db, sqlite:\.\/app\.db, …\) or set DATABASE_URL/],
    [['status', '--database-url', 'redis://u:s3cret@127.0.0.1/x'], /--database-url \(or DATABASE_URL\): unsupported database URL scheme redis:\/\/; expected postgres:\/\/user@host:5432\/db \(or postgresql:\/\/\), mysql:\/\/user@host:3306\/db, mariadb:\/\/user@host:3306\/db, sqlite:<file> or file:<file>/],
    [['status', '--database-url', 'not a url'], /not a database URL: "not a url"; expected postgres:/],
    [['status', '--database-url', 'sqlite:'], /"sqlite:" names no SQLite file .*give a path: sqlite:\.\/app\.db or file:\.\/app\.db/],
    [['status', '--database-url', 'file::memory:'], /names no SQLite file \(an in-memory database lives and dies with the process that opened it\)/],
    [['jobs', 'list', '--schema', 'app', '--database-url', 'mysql://root@127.0.0.1:1/x'], /--schema is a PostgreSQL option: MySQL and MariaDB have no schemas inside a database\. Name the app's database in the URL \(mysql:\/\/user@host:3306\/<database>\) and leave --schema out/],
    [['schema', 'sql', '--schema', 'app', '--database-url', 'mariadb://root@127.0.0.1:1/x'], /--schema is a PostgreSQL option: MySQL and MariaDB/],
    [['jobs', 'list', '--schema', 'app', '--database-url', 'sqlite:./nowhere.db'], /--schema is a PostgreSQL option: SQLite has no schemas, the scheduler's tables are in the database file itself\. Leave --schema out/],
    [['jobs', 'list', '--database-url', 'sqlite:./no-such-dir/app.db'], /no SQLite database at \/.*\/no-such-dir\/app\.db \(from sqlite:\.\/no-such-dir\/app\.db\): check the path .*or create the tables there with 'fastify-mikro-scheduler schema install'/]
  ]
  for (const [args, message] of cases) {
    const run = await cli(args)
    t.equal(run.code, 2, `${args.join(' ') || '(nothing)'}: exit 2`)
    t.match(run.stderr, message)
    t.match(run.stderr, /Run 'fastify-mikro-scheduler --help' for usage\./)
    t.equal(run.stdout, '', 'nothing on stdout')
    t.notMatch(run.stderr, /s3cret/, 'no password is printed')
  }
  const help = await cli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: fastify-mikro-scheduler <command> \[options\]/)
  t.match(help.stdout, /Exit codes: 0 ok, 1 error, 2 usage, 3 not found\./)

  const unreachable = await cli(['status', '--database-url', 'postgres://postgres:s3cret@127.0.0.1:1/nowhere'])
  t.equal(unreachable.code, 1, 'an unreachable database exits 1')
  t.match(unreachable.stderr, /cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere/)
  t.notMatch(unreachable.stderr, /s3cret/, 'the password is not printed')
  const mysqlDown = await cli(['jobs', 'list', '--database-url', 'mysql://root:s3cret@127.0.0.1:1/nowhere'])
  t.equal(mysqlDown.code, 1, 'so does an unreachable MySQL server')
  t.match(mysqlDown.stderr, /cannot connect to mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/nowhere/)
  t.notMatch(mysqlDown.stderr, /s3cret/)
})
