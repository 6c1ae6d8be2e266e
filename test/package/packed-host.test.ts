/**
 * The package as a host installs it: build, `npm pack`, unpack the tarball into the node_modules of
 * a temporary host project with its own package.json (its other dependencies linked from this
 * repository's node_modules: no network), typecheck the host (a README-style app,
 * `fixtures/host/main.ts`), and run it against real PostgreSQL: it starts, runs a job, sees an
 * empty schema diff with and without our entities listed (with skipTables), runs the migrations up
 * and down, starts as a read/write-only role with install: 'migrations', and lives in a custom
 * PostgreSQL schema. Also checks what the
 * tarball carries: LICENSE, repository and bugs fields, source maps with their sources inlined.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { freshDatabase, query } from '../helpers/database.js'

// tsc, npm pack or the redocly CLI run as child processes: slow on a busy machine, so more than the default file timeout.
t.setTimeout(600_000)

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'host')

function run (command: string, args: string[], options: { cwd: string, env?: NodeJS.ProcessEnv }): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

/** Links every package of this repository's node_modules into `target` (scoped ones one by one), except ours. */
function linkDependencies (target: string): void {
  const source = join(root, 'node_modules')
  mkdirSync(target, { recursive: true })
  for (const entry of readdirSync(source)) {
    if (entry.startsWith('.') || entry === 'fastify-mikro-scheduler') continue
    if (entry.startsWith('@')) {
      mkdirSync(join(target, entry), { recursive: true })
      for (const scoped of readdirSync(join(source, entry))) symlinkSync(join(source, entry, scoped), join(target, entry, scoped), 'dir')
    } else {
      symlinkSync(join(source, entry), join(target, entry), 'dir')
    }
  }
}

t.test('a host project built from the packed tarball typechecks, starts, runs a job, and leaves the schema alone', async (t) => {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const build = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root })
  t.equal(build.code, 0, `the package builds ${build.stdout}${build.stderr}`)

  const work = mkdtempSync(join(tmpdir(), 'fms-packed-host-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root })
  t.equal(pack.code, 0, `npm pack succeeds ${pack.stderr}`)
  const packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }> }>)[0]!
  const paths = packed.files.map((file) => file.path)
  t.ok(paths.includes('LICENSE'), 'the tarball carries LICENSE')
  t.ok(paths.includes('dist/index.js.map') && paths.includes('dist/migration.js') && paths.includes('dist/core.d.ts'), 'and the built entry points with source maps')
  t.notOk(paths.some((path) => path.startsWith('test/') || path.startsWith('src/schema')), 'and no tests or TypeScript sources')

  // The host project: its own package.json; our package unpacked where npm would put it.
  const host = join(work, 'host')
  const installed = join(host, 'node_modules', 'fastify-mikro-scheduler')
  linkDependencies(join(host, 'node_modules'))
  mkdirSync(installed, { recursive: true })
  const untar = await run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1'], { cwd: work })
  t.equal(untar.code, 0, 'the tarball unpacks')
  writeFileSync(join(host, 'package.json'), JSON.stringify({
    name: 'host-app', private: true, type: 'module',
    dependencies: { 'fastify-mikro-scheduler': `file:${join(work, packed.filename)}`, fastify: '^5', '@mikro-orm/core': '^7', '@mikro-orm/postgresql': '^7', '@mikro-orm/migrations': '^7' }
  }, null, 2))
  for (const file of ['main.ts', 'tsconfig.json']) copyFileSync(join(fixture, file), join(host, file))

  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { repository?: { url?: string }, bugs?: { url?: string }, license?: string }
  t.match(manifest.repository?.url, /github\.com\/fastify-mikro-scheduler\/fastify-mikro-scheduler/, 'repository field')
  t.match(manifest.bugs?.url, /\/issues$/, 'bugs field')
  const map = JSON.parse(readFileSync(join(installed, 'dist', 'plugin.js.map'), 'utf8')) as { sources: string[], sourcesContent?: string[] }
  t.match(map.sourcesContent?.[0], /export const schedulerPlugin/, 'source maps carry their TypeScript sources (inlineSources), so stack traces and debuggers show them')

  const typecheck = await run(process.execPath, [tsc, '-p', join(host, 'tsconfig.json')], { cwd: host })
  t.equal(typecheck.code, 0, `the host typechecks against the installed types ${typecheck.stdout}`)

  const main = await freshDatabase(t, 'packed_host')
  const inSchema = await freshDatabase(t, 'packed_host_schema')
  const shared = await freshDatabase(t, 'packed_host_roles')
  const role = `fms_packed_${randomBytes(4).toString('hex')}`
  const database = new URL(shared).pathname.slice(1)
  await query(shared, `CREATE ROLE ${role} LOGIN`)
  t.teardown(async () => {
    await query(main, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {})
    await query(main, `DROP ROLE IF EXISTS ${role}`).catch(() => {})
  })
  await query(shared, `GRANT CONNECT ON DATABASE "${database}" TO ${role}`)
  await query(shared, `GRANT USAGE ON SCHEMA public TO ${role}`)
  await query(shared, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`)
  await query(shared, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO ${role}`)
  const appUrl = new URL(shared)
  appUrl.username = role

  const started = await run(process.execPath, ['--experimental-strip-types', '--no-warnings', 'main.ts'], {
    cwd: host,
    env: { HOST_DB_MAIN: main, HOST_DB_SCHEMA: inSchema, HOST_DB_OWNER: shared, HOST_DB_APP: appUrl.toString() }
  })
  t.equal(started.code, 0, `the host app runs ${started.stderr.slice(-2000)}`)
  const results = JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>
  t.same(results.ran, ['world'], 'the job ran once with its args')
  t.equal(results.diffWithEntities, '', 'schema:update proposes nothing with schedulerEntities listed')
  t.equal(results.diffWithSkipTables, '', 'nor without them, with skipTables: SCHEDULER_TABLES')
  t.same(results.ranInSchema, ['world'], "with MikroORM's schema: 'hostapp' the job ran")
  t.same(results.tablesInSchema, ['hostapp.scheduler_audit', 'hostapp.scheduler_job', 'hostapp.scheduler_job_execution', 'hostapp.scheduler_leader', 'hostapp.scheduler_node'], 'its tables are in hostapp')
  t.equal(results.jobsCountedInSchema, 1, "the host's em.count(SchedulerJob) finds the job there")
  t.equal(results.diffInSchema, '', 'and schema:update proposes nothing')
  t.ok(Array.isArray(results.up) && (results.up as string[]).length > 0, `the migrations ran up (${String(results.up)})`)
  t.same(results.leastPrivilegeRan, ['world'], "a read/write-only role started with install: 'migrations' and ran the job")
  t.same(results.down, [...(results.up as string[])].reverse(), 'and they ran down')
  t.same(results.tablesAfterDown, [], 'down removed the tables')
  t.ok(existsSync(join(installed, 'LICENSE')), 'LICENSE installed')
})
