// Overview view (`#/overview`): the last hour of the whole scheduler from `GET stats/overview`:
// executions per minute by status (stacked bars), fire lag p50/p95/max, and the slowest jobs.
import { api } from './api.js'
import { legend, meter, stackedBars } from './charts.js'
import { $, cell, h, replace } from './dom.js'
import { formatDuration, formatLocal, statusLabel } from './format.js'
import { current, hashFor } from './router.js'

/** Minutes shown. */
const MINUTES = 60
/** Stacking order, bottom up: outcomes first, then what is still in flight. */
const STACK = ['success', 'error', 'timeout', 'abandoned', 'missed', 'max_instances', 'running', 'queued']
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })

let render = 0
let shownOverview = ''
export async function renderOverview () {
  const ticket = ++render
  const overview = await api('GET', `stats/overview?minutes=${MINUTES}&slowest=5`)
  if (ticket !== render || current.view !== 'view-overview') return
  // Redrawn only when the numbers changed, so polling keeps the keyboard focus and the hovered bar.
  const signature = JSON.stringify(overview)
  if (signature === shownOverview) return
  shownOverview = signature
  renderPerMinute(overview)
  renderFireLag(overview.fireLag)
  renderSlowest(overview.slowestJobs)
}

function renderPerMinute (overview) {
  const total = overview.perMinute.reduce((sum, minute) => sum + minute.total, 0)
  replace($('overview-window'), `${formatLocal(overview.from)} – ${formatLocal(overview.to)}: ${total} execution${total === 1 ? '' : 's'}`)
  const columns = overview.perMinute.map((minute) => ({
    label: describeMinute(minute),
    segments: STACK.map((status) => ({ status, value: minute.counts[status] ?? 0 }))
  }))
  const idle = 'One bar per minute, oldest left, by run time. Point at a bar, or focus the chart and use the arrow keys.'
  const { chart, caption } = stackedBars(columns, { label: `Executions per minute over the last ${overview.minutes} minutes, by status`, caption: idle })
  const shown = STACK.filter((status) => overview.perMinute.some((minute) => (minute.counts[status] ?? 0) > 0))
  replace($('overview-per-minute'), chart, caption, shown.length > 0 ? legend(shown, statusLabel) : h('p', { class: 'empty' }, 'No executions in this hour.'))
}

/** "21:05 · 3 Executed, 1 Error!" */
function describeMinute (minute) {
  const parts = STACK.filter((status) => (minute.counts[status] ?? 0) > 0).map((status) => `${minute.counts[status]} ${statusLabel(status)}`)
  return `${minuteFormat.format(new Date(minute.minute))} · ${parts.length === 0 ? 'no executions' : parts.join(', ')}`
}

function renderFireLag (lag) {
  if (lag.count === 0) {
    replace($('overview-lag'), h('p', { class: 'empty' }, 'No execution started in this hour.'))
    return
  }
  const row = (term, value) => h('div', { class: 'lag-row', 'data-stat': term },
    h('dt', {}, term), h('dd', {}, h('span', { class: 'lag-value' }, formatDuration(value)), meter(value, lag.maxMs)))
  replace($('overview-lag'),
    h('dl', { class: 'lag' }, row('p50', lag.p50Ms), row('p95', lag.p95Ms), row('max', lag.maxMs)),
    h('p', { class: 'muted' }, `Over ${lag.count} started execution${lag.count === 1 ? '' : 's'}: start − scheduled run time.`))
}

function renderSlowest (jobs) {
  if (jobs.length === 0) {
    replace($('overview-slowest'), h('p', { class: 'empty' }, 'No finished execution in this hour.'))
    return
  }
  const slowest = jobs[0].meanMs
  replace($('overview-slowest'), h('div', { class: 'table-wrap' }, h('table', { class: 'cards', id: 'slowest-table' },
    h('caption', { class: 'visually-hidden' }, 'Slowest jobs, by mean duration'),
    h('thead', {}, h('tr', {}, ['Job', 'Mean', 'Max', 'Runs', ''].map((title) => h('th', { scope: 'col' }, title === '' ? h('span', { class: 'visually-hidden' }, 'Mean, relative') : title)))),
    h('tbody', {}, jobs.map((job) => h('tr', { 'data-job-id': job.jobId },
      cell('Job', h('a', { href: hashFor(`/jobs/${encodeURIComponent(job.jobId)}`) }, job.jobId)),
      cell('Mean', formatDuration(job.meanMs)),
      cell('Max', formatDuration(job.maxMs)),
      cell('Runs', String(job.count)),
      h('td', { class: 'meter-cell' }, meter(job.meanMs, slowest))))))))
}
