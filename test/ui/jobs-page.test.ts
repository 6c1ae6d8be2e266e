/**
 * The admin page in Chromium (issue #5), jobs side: sign in with the guard's token, add a job
 * through the form (live preview, errors next to their field) and see it fire, pause it and see
 * no new execution, run it now and see the outcome, edit it, delete it with confirmation, and
 * keep the filters across the page's polling.
 */
import t from 'tap'
import type { Page } from 'playwright-core'
import { browserAvailable, computedStyle, TOKEN, launchBrowser, pageProblems, signIn, startUiApp } from './fixtures/harness.js'

// Browser globals inside page.evaluate / waitForFunction callbacks (the project's lib has no DOM).
declare const document: any, location: any, window: any

if (browserAvailable(t)) {
  t.test('jobs: sign in, add, fire, pause, run now, edit, delete', async (t) => {
    const ran: string[] = []
    const { app, pageUrl } = await startUiApp(t, 'ui_jobs', {
      tasks: {
        tick: async (ctx) => { ran.push(ctx.job.id) },
        'reports.daily': async () => {}
      },
      jobs: [
        { id: 'clock', task: 'tick', trigger: { type: 'interval', seconds: 1 } },
        { id: 'reports.daily.eu', name: 'Daily report (EU)', task: 'reports.daily', args: ['eu'], trigger: { type: 'cron', expression: '0 6 * * *', timezone: 'Europe/Berlin' } }
      ]
    })
    const context = await launchBrowser(t)

    // The page asks for the token: the API is guarded, the shell is not.
    const first = context.pages()[0] ?? await context.newPage()
    await first.goto(pageUrl)
    await first.waitForSelector('#view-login:not([hidden])')
    t.equal(await first.isVisible('#view-jobs'), false, 'no data is shown before signing in')
    await first.getByLabel('Admin token').fill('wrong-token')
    await first.getByRole('button', { name: 'Sign in' }).click()
    await first.waitForSelector('#login-token-error:has-text("refused")')
    t.pass('a wrong token is refused with a message')
    await first.close()

    const page = await signIn(context, pageUrl)
    const form = page.locator('#job-form')
    await page.waitForSelector('#jobs-body tr[data-job-id="reports.daily.eu"]')
    const daily = page.locator('#jobs-body tr[data-job-id="reports.daily.eu"]')
    t.match(await daily.textContent(), /At 06:00 AM \(Europe\/Berlin\)/, 'trigger in words')
    t.match(await daily.textContent(), /Daily report \(EU\)/, 'the name is shown')
    t.match(await daily.locator('[data-label="Next run"]').textContent(), /\(Europe\/Berlin\)/, 'next run also in the job\'s time zone')
    t.equal(await page.evaluate(() => sessionStorage.length), 1, 'the token is kept in sessionStorage')
    t.equal(page.url().includes(TOKEN), false, 'the token is never in the URL')

    // Add a job through the form.
    await page.getByRole('link', { name: 'Add job' }).click()
    await page.waitForSelector('#view-job-form:not([hidden]) #job-form:not([aria-busy])')
    await form.getByLabel('Id', { exact: true }).fill('ticker')
    await form.getByLabel('Task', { exact: true }).selectOption('tick')
    await form.getByLabel(/^Expression/).fill('61 * * * *')
    await page.waitForSelector('#trigger-expression-error:has-text("invalid trigger")')
    t.equal(await page.getAttribute('#trigger-expression', 'aria-invalid'), 'true', 'the server\'s trigger error is shown next to the expression')
    await form.getByLabel(/^Expression/).fill('* * * * * *')
    await page.waitForFunction(() => document.querySelectorAll('#preview-list li time').length === 5)
    t.equal(await page.textContent('#trigger-expression-error'), '', 'the error goes when the expression is fixed')
    t.match(await page.textContent('#preview-description'), /Every second/, 'the preview describes the trigger')
    await form.getByLabel(/^Arguments/).fill('{"not": "an array"}')
    await page.getByRole('button', { name: 'Save job' }).click()
    await page.waitForSelector('#job-args-error:has-text("JSON array")')
    await form.getByLabel(/^Arguments/).fill('[1, "two"')
    await page.getByRole('button', { name: 'Save job' }).click()
    await page.waitForSelector('#job-args-error:has-text("Not valid JSON")')
    t.pass('args are validated as a JSON array before sending')
    await form.getByLabel(/^Arguments/).fill('[]')
    await form.getByLabel('Id', { exact: true }).fill('clock')
    await page.getByRole('button', { name: 'Save job' }).click()
    await page.waitForSelector('#job-id-error:has-text("already exists")')
    t.pass('a taken id: the 409 is shown next to the id field')
    await form.getByLabel('Id', { exact: true }).fill('ticker')
    await page.getByRole('button', { name: 'Save job' }).click()
    await page.waitForSelector('#jobs-body tr[data-job-id="ticker"]')
    t.same((await app.scheduler.getJob('ticker'))?.trigger, { type: 'cron', expression: '* * * * * *', timezone: 'UTC', version: 1 }, 'the job is stored')

    // It fires, and the list shows its last status (the page polls).
    const ticker = page.locator('#jobs-body tr[data-job-id="ticker"]')
    await ticker.locator('.badge.status-success').waitFor({ timeout: 20_000 })
    t.equal(await ticker.locator('.badge').textContent(), 'Executed', 'the added job fired and shows Executed')
    t.match(await ticker.locator('[data-label="Avg. duration"]').textContent(), /\d+(\.\d+)? m?s/, 'average duration')
    t.equal(await computedStyle(page, '#jobs-body tr[data-job-id="ticker"] .badge.status-success', 'background-color'), 'rgb(30, 107, 52)', 'success is green')

    // Pause: no new execution.
    await ticker.getByRole('button', { name: 'Pause ticker' }).click()
    await ticker.locator('.pill.paused').waitFor()
    t.equal((await app.scheduler.getJob('ticker'))?.paused, true)
    await app.scheduler.once('job:executed', ({ jobId }) => jobId === 'clock')
    const before = await app.scheduler.countExecutions({ jobId: 'ticker' })
    for (let i = 0; i < 2; i++) await app.scheduler.once('job:executed', ({ jobId }) => jobId === 'clock')
    t.equal(await app.scheduler.countExecutions({ jobId: 'ticker' }), before, 'paused: no new execution while the clock job ran twice')

    // Run now: the queued execution, then its outcome.
    await ticker.getByRole('button', { name: 'Run ticker now' }).click()
    await page.waitForSelector('#notice .run-link')
    const runId = Number(await page.getAttribute('#notice .run-link', 'data-execution-id'))
    t.ok(runId > 0, 'the notice names the queued execution')
    await page.waitForSelector('#notice .badge.status-success', { timeout: 15_000 })
    t.equal(await app.scheduler.countExecutions({ jobId: 'ticker' }), before + 1, 'run now ran it once')
    t.equal((await app.scheduler.getExecution(runId))?.status, 'success')

    // Resume.
    await ticker.getByRole('button', { name: 'Resume ticker' }).click()
    await ticker.locator('.pill.active').waitFor()
    t.equal((await app.scheduler.getJob('ticker'))?.paused, false, 'resumed')

    // Edit: interval trigger with a preview; the form shows the stored values.
    await ticker.getByRole('link', { name: 'Edit ticker' }).click()
    await page.waitForSelector('#view-job-form:not([hidden]) #job-form:not([aria-busy])')
    t.equal(await page.inputValue('#trigger-expression'), '* * * * * *', 'the form holds the stored trigger')
    t.equal(await page.getAttribute('#job-id', 'readonly'), '', 'the id cannot be changed')
    await form.getByLabel('Trigger', { exact: true }).selectOption('interval')
    await form.getByLabel('Minutes').fill('30')
    await page.waitForSelector('#preview-description:has-text("Every 30 minutes")')
    await form.getByLabel(/^Name/).fill('Ticker every half hour')
    await page.locator('#job-options > summary').click()
    t.equal(await form.getByLabel("Keep the handler's logs with each run").isChecked(), true, 'capture logs: as stored (default on)')
    await form.getByLabel("Keep the handler's logs with each run").uncheck()
    await page.getByRole('button', { name: 'Save job' }).click()
    await page.waitForSelector('#jobs-body tr[data-job-id="ticker"]:has-text("Every 30 minutes")')
    const edited = await app.scheduler.getJob('ticker')
    t.match(edited, { name: 'Ticker every half hour', trigger: { type: 'interval', minutes: 30 }, captureLogs: false }, 'the change is stored')

    // Filters survive polling.
    await page.getByLabel('Search id or name').fill('tick')
    await page.waitForFunction(() => document.querySelectorAll('#jobs-body tr').length === 1)
    await page.getByLabel('State').selectOption('false')
    await page.waitForFunction(() => location.hash.includes('paused=false'))
    for (let i = 0; i < 2; i++) await page.waitForResponse((response) => response.url().includes('/scheduler/status'))
    await page.waitForResponse((response) => response.url().includes('/scheduler/jobs?'))
    t.equal(await page.inputValue('#jobs-search'), 'tick', 'the search text is kept across refreshes')
    t.equal(await page.inputValue('#jobs-paused'), 'false', 'the state filter is kept')
    t.same(await page.$$eval('#jobs-body tr', (rows) => rows.map((row) => row.getAttribute('data-job-id'))), ['ticker'], 'still filtered')
    await page.getByLabel('Search id or name').fill('')
    await page.getByLabel('State').selectOption('')
    await page.waitForSelector('#jobs-body tr[data-job-id="clock"]')

    // Delete, with confirmation.
    await ticker.getByRole('button', { name: 'Delete ticker' }).click()
    await page.waitForSelector('#confirm[open]')
    await page.getByRole('button', { name: 'Cancel' }).click()
    t.ok(await app.scheduler.getJob('ticker'), 'cancel keeps the job')
    await ticker.getByRole('button', { name: 'Delete ticker' }).click()
    await page.waitForSelector('#confirm[open]')
    await page.locator('#confirm-ok').click()
    await page.waitForSelector('#jobs-body tr[data-job-id="ticker"]', { state: 'detached' })
    t.equal(await app.scheduler.getJob('ticker'), null, 'deleted')

    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForSelector('#view-login:not([hidden])')
    t.equal(await page.evaluate(() => sessionStorage.length), 0, 'signed out: the token is gone')
    t.same(pageProblems(page), [], 'no script errors')
    t.same(ran.filter((id) => id !== 'clock' && id !== 'ticker'), [])
  })

  t.test('keyboard: the add form can be filled and saved without a mouse', async (t) => {
    const { app, pageUrl } = await startUiApp(t, 'ui_keyboard', { tasks: { tick: async () => {} } })
    const context = await launchBrowser(t)
    const page: Page = await signIn(context, pageUrl)
    // The status strip lists the live nodes: this app's one, opening to its details.
    await page.waitForSelector('#status-nodes details.nodes summary')
    t.equal(await page.textContent('#status-nodes summary'), '1 live', 'one live node')
    await page.click('#status-nodes summary')
    const nodeLine = page.locator(`#status-nodes li[data-node-id="${app.scheduler.nodeId}"]`)
    t.match(await nodeLine.textContent(), new RegExp(`pid ${process.pid} · plan, execute · 0 running · seen \\d+ s ago[\\s\\S]*tasks: tick`), 'its pid, roles, running count, last heartbeat and tasks')
    await page.waitForResponse((response) => response.url().endsWith('/scheduler/status'))
    await page.waitForResponse((response) => response.url().endsWith('/scheduler/status'))
    t.equal(await page.locator('#status-nodes details').getAttribute('open'), '', 'the opened list stays open across refreshes')
    await page.focus('#add-job')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#view-job-form:not([hidden]) #job-form:not([aria-busy])')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'job-id', 'focus moves to the first field')
    await page.keyboard.type('kb')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'job-task')
    await page.keyboard.press('ArrowDown')
    await page.focus('#trigger-expression')
    await page.keyboard.type('0 9 * * mon-fri')
    await page.waitForFunction(() => document.querySelectorAll('#preview-list li time').length === 5)
    await page.focus('#job-save')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#jobs-body tr[data-job-id="kb"]')
    t.match(await app.scheduler.getJob('kb'), { task: 'tick', trigger: { expression: '0 9 * * mon-fri' } })

    // Edit while the stored job is still loading: the form is busy and cannot be saved blank.
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    await page.route('**/scheduler/jobs/kb', async (route) => { await held; await route.continue() })
    await page.evaluate(() => { location.hash = '#/jobs/kb/edit' })
    await page.waitForSelector('#view-job-form:not([hidden]) #job-form[aria-busy="true"]')
    t.equal(await page.isDisabled('#job-save'), true, 'Save is disabled while the job loads')
    release()
    await page.waitForSelector('#job-form:not([aria-busy])')
    t.equal(await page.inputValue('#trigger-expression'), '0 9 * * mon-fri', 'then the form holds the stored trigger')
    t.equal(await page.isDisabled('#job-save'), false, 'and Save is enabled')
    await page.unroute('**/scheduler/jobs/kb')
  })
}
