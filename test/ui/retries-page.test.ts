/**
 * The admin page in Chromium (issue #14), retries side: a job whose first attempt fails with
 * attempts left shows, in the executions list and in the execution's detail, when its next attempt
 * runs; the detail lists every attempt of the occurrence, and the queued retry's own detail says
 * when it may start; the job's page shows its retry policy.
 */
import t from 'tap'
import { browserAvailable, launchBrowser, pageProblems, signIn, startUiApp } from './fixtures/harness.js'

if (browserAvailable(t)) {
  t.test('retries: next attempt in the list and the detail, every attempt of the occurrence, the job\'s policy', async (t) => {
    const { app, pageUrl } = await startUiApp(t, 'ui_retries', {
      tasks: { flaky: async () => { throw new Error('upstream timed out') } },
      jobs: [
        // An hour between attempts: attempt 2 stays queued for the whole test.
        { id: 'flaky', task: 'flaky', paused: true, trigger: { type: 'interval', hours: 1 }, retry: { attempts: 3, backoff: 'fixed', delayMs: 3_600_000 } }
      ]
    })
    const failed = await app.scheduler.waitForExecution((await app.scheduler.runJob('flaky', { inProcess: true })).id, { timeoutMs: 10_000 })
    t.equal(failed.status, 'error')
    const next = failed.nextAttemptAt as Date
    t.ok(next instanceof Date, 'the failed attempt has a next attempt')
    const queued = (await app.scheduler.getExecutions({ jobId: 'flaky', status: 'queued' }))[0]
    t.equal(queued?.attempt, 2)

    const context = await launchBrowser(t)
    const page = await signIn(context, pageUrl)
    const problems = pageProblems(page)

    await page.goto(`${pageUrl}#/executions?job=flaky`)
    const failedRow = page.locator(`#executions-body tr[data-execution-id="${failed.id}"]`)
    await failedRow.waitFor()
    t.match(await failedRow.locator('.next-attempt').textContent(), /next attempt/, 'the failed row says a next attempt is due')
    t.equal(await failedRow.locator('.next-attempt time').getAttribute('datetime'), next.toISOString(), 'at the stored time')
    t.match(await page.locator(`#executions-body tr[data-execution-id="${queued?.id}"] .attempt`).textContent(), /attempt 2/, 'the queued row is attempt 2')

    await page.goto(`${pageUrl}#/executions/${failed.id}`)
    await page.waitForSelector('#view-execution:not([hidden]) #execution-attempts li[data-attempt="2"]')
    const details = await page.textContent('#execution-details') ?? ''
    t.match(details, /Attempt\s*1/, 'attempt 1')
    t.match(details, /Next attempt/, 'and its next attempt')
    t.ok((await page.locator('#execution-details time').evaluateAll((times) => times.map((time) => time.getAttribute('datetime')))).includes(next.toISOString()), 'at the stored time')
    t.same(await page.locator('#execution-attempts li').evaluateAll((items) => items.map((item) => item.getAttribute('data-attempt'))), ['1', '2'], 'both attempts of the occurrence, in order')
    t.match(await page.textContent('#execution-attempts li[data-attempt="2"]'), /Attempt 2\s*Queued/)
    t.match(await page.textContent('#execution-traceback'), /upstream timed out/, 'the traceback of the failed attempt')

    await page.locator('#execution-attempts li[data-attempt="2"] a').click()
    await page.waitForSelector(`#view-execution:not([hidden]) #execution-title:has-text("#${queued?.id}")`)
    await page.waitForSelector('#execution-details dt:has-text("Starts after")')
    t.match(await page.textContent('#execution-details'), /Attempt\s*2/, 'the queued retry\'s own detail')

    await page.goto(`${pageUrl}#/jobs/flaky`)
    await page.waitForSelector('#view-job:not([hidden]) #job-details dt:has-text("Retries")')
    t.match(await page.textContent('#job-details'), /up to 3 attempts, 60 min 0 s between attempts/, 'the job\'s retry policy')
    t.match(await page.textContent('#job-details'), /Recover\s*no/)
    t.same(problems, [], 'no console errors or failed requests')
  })
}
