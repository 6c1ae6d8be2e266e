// Jobs list view (`#/jobs?search&task&paused&offset`): filters, each job's last status and mean
// duration, and the actions of each row.
import { api, itemsOf, query } from './api.js'
import { $, cell, h, replace, show } from './dom.js'
import { formatDuration, statusBadge, timeElement, triggerZone } from './format.js'
import { act, removeJob, runNow } from './job-actions.js'
import { PAGE_SIZE, pager } from './pager.js'
import { current, hashFor, parseHash, replaceParams } from './router.js'
import { tasks } from './tasks.js'

export function syncJobFilters (params) {
  const search = $('jobs-search')
  if (document.activeElement !== search) search.value = params.get('search') ?? ''
  const task = params.get('task') ?? ''
  if (task !== '' && !tasks.includes(task)) $('jobs-task').append(h('option', { value: task }, task))
  $('jobs-task').value = task
  $('jobs-paused').value = params.get('paused') ?? ''
}

function jobFilterParams () {
  const { params } = parseHash()
  return {
    search: $('jobs-search').value.trim(),
    task: $('jobs-task').value,
    paused: $('jobs-paused').value,
    offset: params.get('offset') ?? undefined
  }
}

/** Wires the filter form (once, at start). */
export function initJobsList () {
  let searchTimer = null
  $('jobs-search').addEventListener('input', () => {
    clearTimeout(searchTimer)
    searchTimer = setTimeout(() => replaceParams({ ...jobFilterParams(), offset: undefined }), 250)
  })
  $('jobs-task').addEventListener('change', () => replaceParams({ ...jobFilterParams(), offset: undefined }))
  $('jobs-paused').addEventListener('change', () => replaceParams({ ...jobFilterParams(), offset: undefined }))
  $('jobs-filter').addEventListener('submit', (event) => { event.preventDefault(); replaceParams({ ...jobFilterParams(), offset: undefined }) })
}

let jobsRender = 0
export async function renderJobs (params) {
  const ticket = ++jobsRender
  const offset = Number(params.get('offset') ?? 0) || 0
  const page = await api('GET', `jobs${query({ search: params.get('search'), task: params.get('task'), paused: params.get('paused'), limit: PAGE_SIZE, offset })}`)
  const items = itemsOf(page)
  const stats = await Promise.all(items.map((job) => jobStats(job)))
  if (ticket !== jobsRender || current.view !== 'view-jobs') return
  const rows = items.map((job, index) => jobRow(job, stats[index]))
  replace($('jobs-body'), rows)
  show($('jobs-empty'), items.length === 0)
  pager($('jobs-pager'), page.total ?? items.length, offset, (next) => replaceParams({ ...jobFilterParams(), offset: next || undefined }))
  replace($('job-ids'), items.map((job) => h('option', { value: job.id })))
}

/** Last status and average duration: from the list item when the API gives them, else from the job's recent executions. */
async function jobStats (job) {
  const last = job.lastExecution ?? null
  if (last || job.averageDurationMs !== undefined) {
    return { last, average: job.averageDurationMs ?? null }
  }
  try {
    const executions = itemsOf(await api('GET', `jobs/${encodeURIComponent(job.id)}/executions${query({ limit: 20 })}`))
    const durations = executions.map((execution) => execution.durationMs).filter((value) => typeof value === 'number')
    const average = durations.length === 0 ? null : durations.reduce((sum, value) => sum + value, 0) / durations.length
    return { last: executions[0] ?? null, average }
  } catch {
    return { last: null, average: null }
  }
}

/** Active, Paused or Finished, as a pill. */
export function jobState (job) {
  return job.paused
    ? h('span', { class: 'pill paused' }, 'Paused')
    : job.nextRunTime ? h('span', { class: 'pill active' }, 'Active') : h('span', { class: 'pill finished' }, 'Finished')
}

function jobRow (job, stats) {
  const zone = triggerZone(job.trigger)
  const idCell = cell('Job',
    h('a', { href: hashFor(`/jobs/${encodeURIComponent(job.id)}`), class: 'job-id', title: 'Run history of this job' }, job.id),
    job.name && job.name !== job.id ? h('div', { class: 'job-name' }, job.name) : null,
    job.lastError ? h('div', { class: 'error-text flag' }, `⚠ ${job.lastError}`) : null)
  const lastCell = stats.last
    ? cell('Last status', h('a', { href: hashFor(`/executions/${stats.last.id}`), class: 'badge-link' }, statusBadge(stats.last.status)))
    : cell('Last status', h('span', { class: 'muted' }, 'never ran'))
  const label = job.id
  const actions = h('div', { class: 'row-actions' },
    h('button', { type: 'button', class: 'run', 'aria-label': `Run ${label} now`, onclick: () => runNow(job) }, 'Run now'),
    job.paused
      ? h('button', { type: 'button', class: 'resume', 'aria-label': `Resume ${label}`, onclick: () => act(job, 'resume', 'resumed') }, 'Resume')
      : h('button', { type: 'button', class: 'pause', 'aria-label': `Pause ${label}`, onclick: () => act(job, 'pause', 'paused') }, 'Pause'),
    h('a', { class: 'button edit', href: hashFor(`/jobs/${encodeURIComponent(job.id)}/edit`), 'aria-label': `Edit ${label}` }, 'Edit'),
    h('button', { type: 'button', class: 'delete danger', 'aria-label': `Delete ${label}`, onclick: () => removeJob(job) }, 'Delete'))
  return h('tr', { 'data-job-id': job.id, class: job.paused ? 'is-paused' : undefined },
    idCell,
    cell('Task', h('code', {}, job.task)),
    cell('Trigger', h('span', { class: 'description' }, job.description ?? JSON.stringify(job.trigger))),
    cell('Time zone', zone),
    cell('Next run', job.paused ? h('span', { class: 'muted' }, 'paused') : timeElement(job.nextRunTime, zone)),
    lastCell,
    cell('Avg. duration', formatDuration(stats.average)),
    cell('State', jobState(job)),
    h('td', { class: 'actions-cell' }, actions))
}
