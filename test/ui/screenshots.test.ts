/**
 * The README's screenshots of the admin page (docs/*.png), taken from the example app's real
 * jobs: `SCREENSHOTS=1 npx tap test/ui/screenshots.test.ts` (after `npm run build`: the example
 * imports the package's dist/). The example runs on a temporary PGlite directory with the admin
 * routes and the page under /scheduler, guarded by a bearer token. Skipped in ordinary runs, so a
 * test run never rewrites docs/.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { schedulerRoutes } from '../../src/routes/plugin.js'
import { HAVE_CHROMIUM, PREFIX, launchBrowser, requireToken, signIn } from './fixtures/harness.js'

declare const document: any

const DOCS = new URL('../../docs/', import.meta.url)
const wanted = process.env.SCREENSHOTS === '1'

t.test('screenshots of the admin page with the example app', { skip: !wanted ? 'set SCREENSHOTS=1 to rewrite docs/*.png' : !HAVE_CHROMIUM ? 'no /usr/bin/chromium' : false }, async (t) => {
  // Loaded here, not at the top: the example imports dist/, which an ordinary run may not have built.
  const { buildApp } = await import('../../example-app/app.ts')
  const { readConfig } = await import('../../example-app/config.ts')
  const { createExampleTables, openDatabase } = await import('../../example-app/database.ts')
  const dataDir = await mkdtemp(join(tmpdir(), 'fms-screenshots-'))
  t.teardown(async () => rm(dataDir, { recursive: true, force: true }))
  const config = { ...readConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }), port: 0 }
  const orm = await openDatabase(config)
  t.teardown(async () => orm.close(true))
  await createExampleTables(orm)
  const app = await buildApp(config, orm)
  t.teardown(async () => app.close())
  await app.register(schedulerRoutes, { prefix: PREFIX, onRequest: requireToken })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as { port: number }
  const pageUrl = `http://127.0.0.1:${address.port}${PREFIX}/`

  // Let the example produce history: the one-off welcome job (10 s after start) and flaky's errors.
  await Promise.all([
    app.scheduler.once('job:executed', ({ jobId }) => jobId === 'welcome'),
    app.scheduler.once('job:error', ({ jobId }) => jobId === 'flaky')
  ])
  await app.scheduler.pauseJob('minute-report')

  const context = await launchBrowser(t, { width: 1280, height: 800 })
  const page = await signIn(context, pageUrl)
  await page.waitForSelector('#jobs-body tr[data-job-id="flaky"] .badge')
  await page.waitForSelector('#jobs-body tr[data-job-id="heartbeat"] .badge')
  await page.screenshot({ path: new URL('admin-jobs.png', DOCS).pathname })

  await page.goto(`${pageUrl}#/jobs/new`)
  await page.waitForSelector('#view-job-form:not([hidden]) #job-form:not([aria-busy])')
  await page.fill('#job-id', 'reports.daily.eu')
  await page.fill('#job-name', 'Daily report (EU)')
  await page.selectOption('#job-task', 'heartbeat')
  await page.fill('#trigger-expression', '30 9 * * mon-fri')
  await page.fill('#trigger-timezone', 'Europe/Berlin')
  await page.fill('#job-args', '["eu", {"format": "pdf"}]')
  await page.waitForFunction(() => document.querySelectorAll('#preview-list li time').length === 5 && document.querySelector('#preview-description').textContent.includes('Berlin'))
  await page.screenshot({ path: new URL('admin-add-job.png', DOCS).pathname, fullPage: true })

  await page.goto(`${pageUrl}#/executions?status=error`)
  await page.waitForSelector('#executions-body tr[data-status="error"] a')
  await page.locator('#executions-body tr[data-status="error"] a').first().click()
  await page.waitForSelector('#execution-traceback:has-text("at ")')
  await page.screenshot({ path: new URL('admin-execution.png', DOCS).pathname })

  const phone = await signIn(context, pageUrl, { newTab: true, viewport: { width: 390, height: 844 } })
  await phone.waitForSelector('#jobs-body tr[data-job-id="flaky"] .badge')
  await phone.screenshot({ path: new URL('admin-jobs-phone.png', DOCS).pathname })

  await page.goto(`${pageUrl}#/executions`)
  await page.waitForSelector('#executions-body tr[data-status="success"]')
  await page.screenshot({ path: new URL('admin-executions.png', DOCS).pathname })

  // The charts: flaky's run history once it has a dozen runs (every 5 s, every other one fails).
  for (let runs = await app.scheduler.countExecutions({ jobId: 'flaky' }); runs < 12; runs = await app.scheduler.countExecutions({ jobId: 'flaky' })) {
    await app.scheduler.once('job:submitted', ({ jobId }) => jobId === 'flaky')
  }
  await app.scheduler.once('job:error', ({ jobId }) => jobId === 'flaky')
  await page.goto(`${pageUrl}#/jobs/flaky`)
  await page.waitForFunction(() => document.querySelectorAll('#job-history rect.bar').length >= 12)
  await page.locator('#job-history .bar-item').nth(-2).hover()
  await page.screenshot({ path: new URL('admin-job-history.png', DOCS).pathname })
  await page.goto(`${pageUrl}#/overview`)
  await page.waitForSelector('#slowest-table')
  await page.screenshot({ path: new URL('admin-overview.png', DOCS).pathname, fullPage: true })
  await phone.goto(`${pageUrl}#/jobs/flaky`)
  await phone.waitForFunction(() => document.querySelectorAll('#job-history rect.bar').length >= 12)
  await phone.screenshot({ path: new URL('admin-job-history-phone.png', DOCS).pathname })
  t.pass('docs/admin-*.png written')
})
