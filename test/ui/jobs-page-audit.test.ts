/**
 * The admin page in Chromium, a job's audit history: changes made from the job's page (pause,
 * resume, run now) appear in its history with the signed-in user the guard named, next to
 * changes made by code, each with its time, action, actor and changed fields before → after.
 * Hostile text (an actor with markup) is shown as text, never parsed.
 */
import t from 'tap'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { browserAvailable, launchBrowser, pageProblems, requireToken, signIn, startUiApp } from './fixtures/harness.js'

// Browser globals inside page.evaluate / waitForFunction callbacks (the project's lib has no DOM).
declare const document: any

/** The harness's bearer-token guard, which also names the user, as an auth plugin would. */
async function guardWithUser (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await requireToken(request, reply)
  Object.assign(request, { user: { id: 'ops-alice' } })
}

const MARKUP_ACTOR = '<img src=x onerror="document.body.dataset.pwned=1">'

if (browserAvailable(t)) {
  t.test("a job's page shows its audit history: time, action, actor, fields before → after", async (t) => {
    const { app, pageUrl } = await startUiApp(t, 'ui_audit', {
      tasks: { work: async () => {} },
      guard: guardWithUser
    })
    await app.scheduler.addJob({ id: 'report', task: 'work', trigger: { type: 'interval', hours: 1 } }, { actor: 'deploy-bot' })
    await app.scheduler.modifyJob('report', { name: 'Nightly report' }, { actor: MARKUP_ACTOR })
    const context = await launchBrowser(t)
    const page = await signIn(context, pageUrl)
    await page.goto(`${pageUrl}#/jobs/report`)
    await page.waitForSelector('#view-job:not([hidden]) #job-audit-table tr[data-action="modified"]')
    t.equal(await page.locator('#job-audit-table tbody tr').count(), 2, 'the two changes made so far')

    await page.getByRole('button', { name: 'Pause report' }).click()
    await page.waitForSelector('#job-audit-table tr[data-action="paused"]')
    await page.getByRole('button', { name: 'Resume report' }).click()
    await page.waitForSelector('#job-audit-table tr[data-action="resumed"]')
    await page.getByRole('button', { name: 'Run report now' }).click()
    await page.waitForSelector('#job-audit-table tr[data-action="run"]')

    const rows = await page.$$eval('#job-audit-table tbody tr', (trs: any[]) => trs.map((tr) => ({
      action: tr.querySelector('[data-label="Action"]').textContent,
      actor: tr.querySelector('[data-label="Actor"]').textContent,
      time: tr.querySelector('[data-label="Time"] time')?.getAttribute('datetime'),
      changes: tr.querySelector('[data-label="Changes"]').textContent
    })))
    t.same(rows.map((row) => [row.action, row.actor]), [
      ['Run now', 'ops-alice'],
      ['Resumed', 'ops-alice'],
      ['Paused', 'ops-alice'],
      ['Modified', MARKUP_ACTOR],
      ['Added', 'deploy-bot']
    ], 'newest first, each with the actor: the guard\'s user for the page\'s own changes')
    t.ok(rows.every((row) => typeof row.time === 'string' && !Number.isNaN(Date.parse(row.time))), 'each row has its time')
    t.match(rows[2]?.changes, /paused: false → true/, 'a pause: paused false → true')
    t.match(rows[1]?.changes, /paused: true → false/)
    t.match(rows[3]?.changes, /name: report → Nightly report/, 'a modification: the field before → after')
    t.match(rows[0]?.changes, /executionId: — → \d+/, 'a run names its execution')
    t.match(rows[4]?.changes, /task: — → work/, 'an add: what it set')
    t.equal(await page.evaluate(() => document.body.dataset.pwned ?? null), null, 'an actor with markup is shown as text')
    t.equal(await page.locator('#job-audit-table img').count(), 0)
    t.same(pageProblems(page), [], 'no script errors')
  })
}
