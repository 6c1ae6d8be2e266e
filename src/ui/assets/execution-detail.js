// Execution detail view (`#/executions/<id>`): its times, node, attempts, late outcome, result, captured logs, exception and full traceback.
import { api, itemsOf, query } from './api.js'
import { $, h, replace } from './dom.js'
import { ACTIVE_STATUSES, formatDuration, statusBadge, timeElement } from './format.js'
import { current, hashFor } from './router.js'

export async function renderExecution (id) {
  const execution = await api('GET', `executions/${encodeURIComponent(id)}`)
  // Every attempt of the occurrence: the executions of the job at exactly this run time.
  const siblings = itemsOf(await api('GET', `executions${query({ jobId: execution.jobId, from: execution.runTime, to: execution.runTime, limit: 100 })}`))
  replace($('execution-title'), `Execution #${execution.id} of `, h('code', {}, execution.jobId))
  $('execution-back').setAttribute('href', hashFor('/executions', { job: execution.jobId }))
  const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, value)]
  replace($('execution-details'),
    row('Status', statusBadge(execution.status)),
    row('Job', h('a', { href: hashFor('/executions', { job: execution.jobId }) }, execution.jobId)),
    row('Run time', timeElement(execution.runTime)),
    row('Attempt', String(execution.attempt)),
    // A failed attempt with attempts left: when the next one runs; a queued retry: when it may start.
    ...(execution.nextAttemptAt ? row('Next attempt', timeElement(execution.nextAttemptAt)) : []),
    ...(execution.startAfter && execution.status === 'queued' ? row('Starts after', timeElement(execution.startAfter)) : []),
    row('Started', timeElement(execution.startedAt)),
    row('Finished', timeElement(execution.finishedAt)),
    row('Duration', formatDuration(execution.durationMs)),
    row('Node', execution.owner ?? '—'),
    // An abandoned run that finished after all (its lease had expired): what it finished with.
    ...(execution.lateStatus ? [
      ...row('Late outcome', statusBadge(execution.lateStatus), ' at ', timeElement(execution.lateFinishedAt)),
      ...(execution.lateException ? row('Late exception', execution.lateException) : [])
    ] : []))
  replace($('execution-attempts'), [...siblings].sort((a, b) => a.attempt - b.attempt).map((attempt) => h('li', { 'data-attempt': attempt.attempt },
    attempt.id === execution.id
      ? h('strong', { 'aria-current': 'page' }, `Attempt ${attempt.attempt}`)
      : h('a', { href: hashFor(`/executions/${attempt.id}`) }, `Attempt ${attempt.attempt}`),
    ' ', statusBadge(attempt.status),
    attempt.finishedAt ? [' ', timeElement(attempt.finishedAt)] : [],
    attempt.nextAttemptAt ? [' — next attempt ', timeElement(attempt.nextAttemptAt)] : [])))
  replace($('execution-result'), execution.result === null || execution.result === undefined ? '—' : JSON.stringify(execution.result, null, 2))
  replace($('execution-logs'), Array.isArray(execution.logs) && execution.logs.length > 0
    ? execution.logs.map((line) => `${line.time} ${line.level.toUpperCase().padEnd(5)} ${line.msg}${Object.keys(line.fields ?? {}).length > 0 ? ` ${JSON.stringify(line.fields)}` : ''}`).join('\n')
    : '—')
  replace($('execution-exception'), execution.exception ?? '—')
  replace($('execution-traceback'), execution.traceback ?? '—')
  // Keep polling while the run can still change.
  current.refresh = ACTIVE_STATUSES.has(execution.status) ? () => renderExecution(id) : null
}
