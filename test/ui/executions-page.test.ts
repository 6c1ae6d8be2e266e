/**
 * The admin page in Chromium (issue #5), executions side: run a failing job now and open its
 * traceback, status colours and filters, the XSS case (user-supplied ids, names, args and
 * exception text show as text), and the phone layout at 390×844.
 */
import t from 'tap'
import { query } from '../helpers/database.js'
import { boxSize, browserAvailable, computedStyle, launchBrowser, pageProblems, signIn, startUiApp } from './fixtures/harness.js'

const XSS_NAME = '<img src=x onerror=alert(1)>'
const XSS_ID = '<svg onload=alert(2)>'
const XSS_ARG = '<img src=x onerror=alert(3)>'
const XSS_ERROR = '</pre><img src=x onerror=alert(4)>'
const XSS_RESULT = '</pre><img src=x onerror=alert(5)>'

// Browser globals inside page.evaluate / waitForFunction callbacks (the project's lib has no DOM).
declare const document: any, location: any, window: any

if (browserAvailable(t)) {
  t.test('executions: traceback, colours, filters, XSS, phone width', async (t) => {
    const { app, pageUrl, url } = await startUiApp(t, 'ui_executions', {
      tasks: {
        boom: async () => { throw new Error('kaboom: the report service answered 503') },
        ok: async (ctx) => { ctx.log.info({ rows: 3 }, 'exported %d rows', 3); return { rows: 3, note: XSS_RESULT } },
        hostile: async (_ctx, arg: string) => { throw new Error(`${XSS_ERROR} ${arg}`) }
      },
      jobs: [
        { id: 'boom', task: 'boom', paused: true, trigger: { type: 'interval', hours: 1 } },
        { id: 'fine', task: 'ok', paused: true, trigger: { type: 'interval', hours: 1 } },
        { id: XSS_ID, name: XSS_NAME, task: 'hostile', args: [XSS_ARG], paused: true, trigger: { type: 'interval', hours: 1 } }
      ]
    })
    const context = await launchBrowser(t)
    const page = await signIn(context, pageUrl)
    const dialogs: string[] = []
    page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss() })

    // Run the failing job now; the notice shows its outcome; open the traceback.
    const boom = page.locator('#jobs-body tr[data-job-id="boom"]')
    await boom.getByRole('button', { name: 'Run boom now' }).click()
    await page.waitForSelector('#notice .badge.status-error', { timeout: 15_000 })
    t.match(await page.textContent('#notice'), /Error! in \d+ ms — Error: kaboom/, 'the notice shows the error outcome')
    await page.locator('#notice .run-link').click()
    await page.waitForSelector('#view-execution:not([hidden]) #execution-traceback:has-text("at ")')
    t.match(await page.textContent('#execution-exception'), /kaboom: the report service answered 503/)
    t.match(await page.textContent('#execution-traceback'), /Error: kaboom[\s\S]*\n\s+at /, 'the full traceback')
    t.equal(await computedStyle(page, '#execution-details .badge', 'background-color'), 'rgb(179, 38, 30)', 'error is red')

    // A success: its detail shows the handler's result as JSON (as text, never markup).
    const fine = await app.scheduler.waitForExecution((await app.scheduler.runJob('fine')).id, { timeoutMs: 10_000 })
    await page.goto(`${pageUrl}#/executions/${fine.id}`)
    await page.waitForSelector('#view-execution:not([hidden]) #execution-result:has-text("rows")')
    t.same(JSON.parse(await page.textContent('#execution-result') ?? ''), { rows: 3, note: XSS_RESULT }, 'the result, as the handler returned it')
    t.equal(await page.locator('#execution-result img').count(), 0, 'the result is text')
    t.match(await page.textContent('#execution-logs'), /^\S+Z INFO  exported 3 rows \{"rows":3\}$/, 'the line the handler logged')

    // A late outcome (written here as the reaper and a late writer would leave it): shown with the row.
    const [late] = await query<{ id: string }>(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, finished_at, exception, late_status, late_finished_at, late_exception)
      VALUES ('fine', now(), 'abandoned', now(), now(), 'lease expired', 'error', now(), 'Error: finished late') RETURNING id`)
    await page.goto(`${pageUrl}#/executions/${late?.id}`)
    await page.waitForSelector('#execution-details dt:has-text("Late outcome")')
    t.match(await page.textContent('#execution-details'), /Late outcome\s*Error! at [\s\S]*Late exception\s*Error: finished late/, 'the late outcome and its exception')

    // Then the list: newest first, colours, filter by status and job.
    await page.getByRole('link', { name: 'Executions', exact: true }).click()
    await page.waitForSelector('#executions-body tr[data-status="success"]')
    const ids = await page.$$eval('#executions-body tr', (rows) => rows.map((row) => Number(row.getAttribute('data-execution-id'))))
    t.same(ids, [...ids].sort((a, b) => b - a), 'newest first')
    t.equal(await computedStyle(page, '#executions-body tr[data-status="success"] .badge', 'background-color'), 'rgb(30, 107, 52)', 'success is green')
    await page.getByLabel('Status', { exact: true }).selectOption('error')
    await page.waitForFunction(() => [...document.querySelectorAll('#executions-body tr')].every((row) => row.getAttribute('data-status') === 'error'))
    await page.getByLabel('Job id').fill('boom')
    await page.waitForFunction(() => location.hash.includes('job=boom'))
    for (let i = 0; i < 2; i++) await page.waitForResponse((response) => response.url().includes('/scheduler/status'))
    await page.waitForResponse((response) => response.url().includes('/scheduler/executions?'))
    t.equal(await page.inputValue('#executions-status'), 'error', 'the status filter survives the polling')
    t.equal(await page.inputValue('#executions-job'), 'boom', 'the job filter survives the polling')
    t.same(await page.$$eval('#executions-body tr', (rows) => rows.map((row) => row.textContent?.includes('boom'))), [true])

    // Amber for missed: a row written by the claim (the job's run time long past its grace).
    await app.scheduler.addJob({ id: 'late', task: 'ok', misfireGraceTime: 1, trigger: { type: 'date', runDate: new Date(Date.now() - 60_000).toISOString() } })
    await app.scheduler.once('job:missed', ({ jobId }) => jobId === 'late')
    await page.goto(`${pageUrl}#/executions?status=missed`)
    await page.waitForSelector('#executions-body tr[data-status="missed"]')
    t.equal(await computedStyle(page, '#executions-body .badge.status-missed', 'background-color'), 'rgb(255, 213, 107)', 'missed is amber')

    // XSS: ids, names, args and exception text are text.
    await page.goto(`${pageUrl}#/jobs`)
    const hostile = page.locator('#jobs-body tr').filter({ hasText: XSS_NAME })
    await hostile.waitFor()
    t.equal(await hostile.getAttribute('data-job-id'), XSS_ID)
    t.match(await hostile.textContent(), XSS_ID, 'the id shows as text')
    await hostile.getByRole('button', { name: `Run ${XSS_ID} now` }).click()
    await page.waitForSelector(`#notice:has-text("${XSS_ID}") .badge.status-error`, { timeout: 15_000 })
    t.match(await page.textContent('#notice'), XSS_ERROR, 'the exception shows as text in the notice')
    await page.locator('#notice .run-link').click()
    await page.waitForSelector(`#execution-exception:has-text("${XSS_ARG}")`)
    t.match(await page.textContent('#execution-exception'), `${XSS_ERROR} ${XSS_ARG}`)
    await page.goto(`${pageUrl}#/jobs/${encodeURIComponent(XSS_ID)}/edit`)
    await page.waitForSelector('#view-job-form:not([hidden]) #job-form:not([aria-busy])')
    t.equal(await page.inputValue('#job-args'), JSON.stringify([XSS_ARG]), 'args show as text in the form')
    t.equal(await page.inputValue('#job-name'), XSS_NAME)
    await page.goto(`${pageUrl}#/executions?job=${encodeURIComponent(XSS_ID)}`)
    await page.waitForSelector('#executions-body tr[data-status="error"]')
    t.equal(await page.locator('main img, main svg, #notice img').count(), 0, 'no element was injected')
    t.same(dialogs, [], 'no script ran (no alert)')
    t.equal(await page.evaluate(() => (window as unknown as { alerted?: boolean }).alerted ?? false), false)

    // Phone width: cards, no sideways scrolling.
    const phone = await signIn(context, pageUrl, { newTab: true, viewport: { width: 390, height: 844 } })
    await phone.waitForSelector('#jobs-body tr[data-job-id="boom"]')
    t.equal(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'no horizontal overflow at 390 px')
    t.ok((await boxSize(phone, '#jobs-table thead')).height <= 1, 'the table head is hidden (cards)')
    t.equal(await computedStyle(phone, '#jobs-body tr[data-job-id="boom"] td[data-label="Task"]', 'content', '::before'), '"Task"', 'each cell says what it is')
    await phone.goto(`${pageUrl}#/executions`)
    await phone.waitForSelector('#executions-body tr')
    t.equal(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'executions fit too')
    t.same([...pageProblems(page), ...pageProblems(phone)], [], 'no script errors')
  })
}
