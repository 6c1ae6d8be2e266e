/**
 * The admin page's charts in Chromium, drawn from executions the test writes through the job
 * store with chosen statuses, durations and fire lags (the jobs are paused, so the live scheduler
 * adds nothing): the run-history strip (one bar per execution, heights in the ratio of the
 * durations, colours by status, the success rate), its hover and keyboard descriptions, the
 * overview (executions per minute by status, fire lag p50/p95/max, slowest jobs), and both at
 * phone width, under the page's strict CSP (a violation would be a console error).
 */
import t from 'tap'
import type { ExecutionRecord, JobStore } from '../../src/stores/job-store.js'
import { boxSize, browserAvailable, computedStyle, launchBrowser, pageProblems, signIn, startUiApp } from './fixtures/harness.js'

// Browser globals inside page.evaluate / waitForFunction callbacks (the project's lib has no DOM).
declare const document: any

const OWNER = 'node-charts'

interface Planned { status: 'success' | 'error' | 'timeout' | 'max_instances', durationMs: number | null, lagMs: number }

/** The executions of job `charted`, oldest first, one a minute. */
const PLANNED: Planned[] = [
  { status: 'success', durationMs: 100, lagMs: 0 },
  { status: 'success', durationMs: 400, lagMs: 1000 },
  { status: 'success', durationMs: 200, lagMs: 2000 },
  { status: 'max_instances', durationMs: null, lagMs: 0 },
  { status: 'success', durationMs: 800, lagMs: 4000 },
  { status: 'error', durationMs: 50, lagMs: 5000 },
  { status: 'timeout', durationMs: 300, lagMs: 6000 }
]

/** Milliseconds of lease on the written runs: long enough that a run still holds its slot a minute later. */
const LEASE_MS = 10 * 60_000

const start = async (store: JobStore, jobId: string, runTime: Date): Promise<ExecutionRecord> =>
  await store.claimImmediateRun(jobId, { now: runTime, owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord

/** Finishes a started run so that it started `lagMs` after its run time and ran `durationMs`. */
async function finish (store: JobStore, started: ExecutionRecord, planned: Planned): Promise<ExecutionRecord> {
  const durationMs = planned.durationMs as number
  return await store.finishExecution(started.id, { status: planned.status as 'success', durationMs }, new Date(started.runTime.getTime() + planned.lagMs + durationMs)) as ExecutionRecord
}

if (browserAvailable(t)) {
  t.test('run-history strip and overview from known executions', async (t) => {
    const { app, pageUrl } = await startUiApp(t, 'ui_charts', {
      tasks: { work: async () => {} },
      jobs: [
        { id: 'charted', name: 'Charted job', task: 'work', paused: true, trigger: { type: 'interval', hours: 1 } },
        { id: 'other', task: 'work', paused: true, trigger: { type: 'interval', hours: 1 } }
      ]
    })
    const store = app.scheduler.options.store
    // Twenty minutes ago, on the minute plus 10 s: every row is inside the overview's last hour.
    const now = await app.scheduler.now()
    const first = Math.floor(now.getTime() / 60_000) * 60_000 - 20 * 60_000 + 10_000
    const written: ExecutionRecord[] = []
    const runTime = (i: number): Date => new Date(first + i * 60_000)
    for (const [i, planned] of PLANNED.entries()) {
      if (planned.status === 'max_instances') continue
      const started = await start(store, 'charted', runTime(i))
      if (PLANNED[i + 1]?.status === 'max_instances') {
        // The job allows one instance: while this run holds it, the next occurrence is refused (no duration).
        written[i + 1] = await start(store, 'charted', runTime(i + 1))
        t.equal(written[i + 1]?.status, 'max_instances', 'setup: the refused occurrence')
      }
      written[i] = await finish(store, started, planned)
    }
    for (const [offset, durationMs] of [[1000, 1000], [2000, 3000]] as const) {
      await finish(store, await start(store, 'other', new Date(first + offset)), { status: 'success', durationMs, lagMs: 0 })
    }

    const context = await launchBrowser(t)
    const page = await signIn(context, pageUrl)

    // From the jobs list to the job's page.
    await page.locator('#jobs-body tr[data-job-id="charted"] a.job-id').click()
    await page.waitForSelector('#view-job:not([hidden]) #job-history svg.chart')
    const bars = page.locator('#job-history rect.bar')
    t.equal(await bars.count(), PLANNED.length, 'one bar per execution')
    t.same(await bars.evaluateAll((rects) => rects.map((rect) => rect.getAttribute('data-status'))), PLANNED.map((p) => p.status), 'oldest first, left to right')
    const heights = await bars.evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute('height'))))
    const xs = await bars.evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute('x'))))
    t.same(xs, [...xs].sort((a, b) => a - b), 'bars go left to right')
    // Heights in the ratio of the durations: the 800 ms run is the full height, 400 ms half, 50 ms 1/16.
    const tallest = heights[4] as number
    for (const [i, planned] of PLANNED.entries()) {
      if (planned.durationMs === null) continue
      t.ok(Math.abs((heights[i] as number) / tallest - planned.durationMs / 800) < 1e-6, `bar ${i} (${planned.durationMs} ms) is ${planned.durationMs}/800 of the tallest`)
    }
    t.ok((heights[3] as number) > 0 && (heights[3] as number) < (heights[5] as number), 'the refused occurrence (no duration) is a short marker')
    const fill = async (status: string): Promise<string> => computedStyle(page, `#job-history rect.bar[data-status="${status}"]`, 'fill')
    t.equal(await fill('success'), 'rgb(30, 107, 52)', 'success is green (the badge colour)')
    t.equal(await fill('error'), 'rgb(179, 38, 30)', 'error is red')
    t.equal(await fill('timeout'), 'rgb(179, 38, 30)', 'timeout is red')
    t.equal(await fill('max_instances'), 'rgb(224, 168, 0)', 'max instances is amber')
    // Finished: all 7 (success ×4, max_instances, error, timeout); succeeded 4 → 4/7 = 57.142…% → "57.1%".
    t.match(await page.textContent('#job-success-rate'), /Success rate: 57\.1% \(4 of 7 finished runs\)/)

    // Hover and keyboard describe a bar with its run time and outcome.
    const titles = await page.locator('#job-history rect.bar title').allTextContents()
    t.match(titles[5], new RegExp(`^#${written[5]?.id} · .+ · Error! · 50 ms$`), 'each bar has a tooltip: id, run time, outcome, duration')
    await page.locator('#job-history .bar-item').nth(1).hover()
    await page.waitForFunction(() => document.querySelector('#job-history .chart-caption').textContent.includes('400 ms'))
    t.match(await page.textContent('#job-history .chart-caption'), /Executed · 400 ms/, 'hover writes the bar\'s description under the chart')
    t.equal(await page.locator('#job-history .bar-item[tabindex="0"]').count(), 1, 'one tab stop for the whole strip')
    await page.focus('#job-history .bar-item[tabindex="0"]')
    t.match(await page.textContent('#job-history .chart-caption'), /Timed out · 300 ms/, 'focus starts on the newest run')
    await page.keyboard.press('ArrowLeft')
    t.match(await page.textContent('#job-history .chart-caption'), /Error! · 50 ms/, 'ArrowLeft moves to the run before')
    t.equal(await page.evaluate(() => document.activeElement?.getAttribute('tabindex')), '0', 'the focused bar holds the tab stop')
    for (let i = 0; i < 2; i++) await page.waitForResponse((response) => response.url().includes('/run-history'))
    await page.waitForFunction(() => document.querySelector('#status-running').textContent !== '…')
    t.match(await page.textContent('#job-history .chart-caption'), /Error! · 50 ms/, 'two polls later the same bar is still described (unchanged data is not redrawn)')
    t.equal(await page.evaluate(() => document.activeElement?.closest('#job-history') !== null), true, 'and keeps the keyboard focus')
    await page.keyboard.press('Home')
    t.match(await page.textContent('#job-history .chart-caption'), /Executed · 100 ms/, 'Home goes to the oldest')
    await page.keyboard.press('End')
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('Enter')
    // The view shows at once and titles itself when the execution's fetch answers: wait for the title.
    await page.waitForSelector(`#view-execution:not([hidden]) #execution-title:has-text("Execution #${written[5]?.id} of")`, { timeout: 10_000 }).catch(() => {})
    t.match(await page.textContent('#execution-title'), `Execution #${written[5]?.id} of`, 'Enter opens the focused run')

    // The overview.
    await page.getByRole('link', { name: 'Overview' }).click()
    await page.waitForSelector('#view-overview:not([hidden]) #overview-per-minute svg.chart')
    t.equal(await page.locator('#overview-per-minute .bar-item').count(), 60, 'one column per minute of the last hour')
    const columns = await page.locator('#overview-per-minute .bar-item').evaluateAll((items) => items.map((item) => ({
      label: item.getAttribute('aria-label') as string,
      segments: [...item.querySelectorAll('rect.bar')].map((rect: any) => ({ status: rect.getAttribute('data-status'), height: Number(rect.getAttribute('height')) }))
    })).filter((column) => column.segments.length > 0))
    // Seven minutes have executions: the first holds charted's first run and both of other's (3
    // successes, the tallest), the others one each (the refused occurrence's minute included).
    t.equal(columns.length, 7, 'seven minutes have executions')
    t.same(columns[0]?.segments.map((s) => s.status), ['success'])
    t.ok(Math.abs((columns[0]?.segments[0]?.height as number) - 100) < 1e-6, 'the busiest minute (3) is the full height')
    t.match(columns[0]?.label, /3 Executed$/)
    for (const column of columns.slice(1)) t.ok(Math.abs((column.segments[0]?.height as number) - 100 / 3) < 1e-6, `${column.label}: 1 of 3, a third of the height`)
    t.same(columns.map((column) => column.segments[0]?.status), ['success', 'success', 'success', 'max_instances', 'success', 'error', 'timeout'], 'coloured by status, minute by minute')
    t.equal(await computedStyle(page, '#overview-per-minute rect.bar[data-status="error"]', 'fill'), 'rgb(179, 38, 30)')
    // Lags of the runs that started: 0, 0, 0 (other's two), 1000, 2000, 4000, 5000, 6000 ms (8 values).
    // percentile_cont: p50 at position 3.5 → 1000 + 0.5 × (2000 − 1000) = 1500 ms → "1.50 s";
    // p95 at 6.65 → 5000 + 0.65 × 1000 = 5650 → "5.65 s"; max 6000 → "6.00 s".
    t.equal(await page.textContent('#overview-lag [data-stat="p50"] .lag-value'), '1.50 s')
    t.equal(await page.textContent('#overview-lag [data-stat="p95"] .lag-value'), '5.65 s')
    t.equal(await page.textContent('#overview-lag [data-stat="max"] .lag-value'), '6.00 s')
    t.match(await page.textContent('#overview-lag'), /Over 8 started executions/)
    // Means: other (1000 + 3000) / 2 = 2000 ms; charted (100 + 400 + 200 + 800 + 50 + 300) / 6 = 308.33 ms.
    t.same(await page.$$eval('#slowest-table tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent))),
      [['other', '2.00 s', '3.00 s', '2'], ['charted', '308 ms', '800 ms', '6']], 'slowest jobs by mean duration')
    const meters = await page.$$eval('#slowest-table rect.meter-bar', (rects) => rects.map((rect) => Number(rect.getAttribute('width'))))
    t.ok(Math.abs((meters[1] as number) / (meters[0] as number) - (1850 / 6) / 2000) < 1e-6, 'the meters are in the ratio of the means')

    // Phone width: the charts fit, nothing scrolls sideways.
    const phone = await signIn(context, pageUrl, { newTab: true, viewport: { width: 390, height: 844 } })
    await phone.goto(`${pageUrl}#/jobs/charted`)
    await phone.waitForSelector('#job-history svg.chart')
    t.equal(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'job page: no horizontal overflow at 390 px')
    const strip = await boxSize(phone, '#job-history svg.chart')
    t.ok(strip.width <= 390 && strip.width > 300, `the strip spans the phone's width (${strip.width} px)`)
    await phone.goto(`${pageUrl}#/overview`)
    await phone.waitForSelector('#slowest-table')
    t.equal(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'overview: no horizontal overflow at 390 px')
    t.same([...pageProblems(page), ...pageProblems(phone)], [], 'no script errors and no CSP violations')
  })
}
