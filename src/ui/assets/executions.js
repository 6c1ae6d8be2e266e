// Executions list view (`#/executions?job&status&offset`), newest first.
import { api, itemsOf, query } from './api.js'
import { $, append, cell, h, replace, show } from './dom.js'
import { firstLine, formatDuration, STATUS_LABELS, statusBadge, timeElement } from './format.js'
import { PAGE_SIZE, pager } from './pager.js'
import { current, hashFor, replaceParams } from './router.js'

export function syncExecutionFilters (params) {
  const job = $('executions-job')
  if (document.activeElement !== job) job.value = params.get('job') ?? ''
  $('executions-status').value = params.get('status') ?? ''
}

function executionFilterParams () {
  return { job: $('executions-job').value.trim(), status: $('executions-status').value }
}

/** Fills the status filter and wires the filter form (once, at start). */
export function initExecutions () {
  append($('executions-status'), Object.entries(STATUS_LABELS).map(([status, label]) => h('option', { value: status }, label)))
  let jobFilterTimer = null
  $('executions-job').addEventListener('input', () => {
    clearTimeout(jobFilterTimer)
    jobFilterTimer = setTimeout(() => replaceParams(executionFilterParams()), 300)
  })
  $('executions-status').addEventListener('change', () => replaceParams(executionFilterParams()))
  $('executions-filter').addEventListener('submit', (event) => { event.preventDefault(); replaceParams(executionFilterParams()) })
}

let executionsRender = 0
export async function renderExecutions (params) {
  const ticket = ++executionsRender
  const offset = Number(params.get('offset') ?? 0) || 0
  const job = params.get('job')
  const page = await api('GET', `executions${query({ jobId: job, status: params.get('status'), limit: PAGE_SIZE, offset })}`)
  if (ticket !== executionsRender || current.view !== 'view-executions') return
  const items = itemsOf(page)
  replace($('executions-body'), items.map((execution) => h('tr', { 'data-execution-id': execution.id, 'data-status': execution.status },
    cell('Id', h('a', { href: hashFor(`/executions/${execution.id}`), 'aria-label': `Execution ${execution.id} details` }, `#${execution.id}`)),
    cell('Job', h('a', { href: hashFor('/executions', { job: execution.jobId }) }, execution.jobId)),
    cell('Run time', timeElement(execution.runTime)),
    cell('Status', statusBadge(execution.status),
      execution.attempt > 1 ? h('span', { class: 'attempt' }, ` attempt ${execution.attempt}`) : '',
      execution.nextAttemptAt ? h('span', { class: 'next-attempt' }, ' — next attempt ', timeElement(execution.nextAttemptAt)) : ''),
    cell('Duration', formatDuration(execution.durationMs)),
    cell('Exception', execution.exception ? h('a', { href: hashFor(`/executions/${execution.id}`), class: 'error-text' }, firstLine(execution.exception, 120)) : ''))))
  show($('executions-empty'), items.length === 0)
  pager($('executions-pager'), page.total ?? items.length, offset, (next) => replaceParams({ ...executionFilterParams(), offset: next || undefined }))
}
