// Execution detail view (`#/executions/<id>`): its times, node, late outcome, result, captured logs, exception and full traceback.
import { api } from './api.js'
import { $, h, replace } from './dom.js'
import { ACTIVE_STATUSES, formatDuration, statusBadge, timeElement } from './format.js'
import { current, hashFor } from './router.js'

export async function renderExecution (id) {
  const execution = await api('GET', `executions/${encodeURIComponent(id)}`)
  replace($('execution-title'), `Execution #${execution.id} of `, h('code', {}, execution.jobId))
  $('execution-back').setAttribute('href', hashFor('/executions', { job: execution.jobId }))
  const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, value)]
  replace($('execution-details'),
    row('Status', statusBadge(execution.status)),
    row('Job', h('a', { href: hashFor('/executions', { job: execution.jobId }) }, execution.jobId)),
    row('Run time', timeElement(execution.runTime)),
    row('Started', timeElement(execution.startedAt)),
    row('Finished', timeElement(execution.finishedAt)),
    row('Duration', formatDuration(execution.durationMs)),
    row('Node', execution.owner ?? '—'),
    // An abandoned run that finished after all (its lease had expired): what it finished with.
    ...(execution.lateStatus ? [
      ...row('Late outcome', statusBadge(execution.lateStatus), ' at ', timeElement(execution.lateFinishedAt)),
      ...(execution.lateException ? row('Late exception', execution.lateException) : [])
    ] : []))
  replace($('execution-result'), execution.result === null || execution.result === undefined ? '—' : JSON.stringify(execution.result, null, 2))
  replace($('execution-logs'), Array.isArray(execution.logs) && execution.logs.length > 0
    ? execution.logs.map((line) => `${line.time} ${line.level.toUpperCase().padEnd(5)} ${line.msg}${Object.keys(line.fields ?? {}).length > 0 ? ` ${JSON.stringify(line.fields)}` : ''}`).join('\n')
    : '—')
  replace($('execution-exception'), execution.exception ?? '—')
  replace($('execution-traceback'), execution.traceback ?? '—')
  // Keep polling while the run can still change.
  current.refresh = ACTIVE_STATUSES.has(execution.status) ? () => renderExecution(id) : null
}
