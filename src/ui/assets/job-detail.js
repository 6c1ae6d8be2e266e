// Job detail view (`#/jobs/<id>`): the job's schedule and state, its actions, and its run-history
// strip (the newest 100 executions as bars: height = duration, colour = status) with its success
// rate, from `GET jobs/:id/run-history`, and its audit history (`job-audit.js`).
import { api } from './api.js'
import { barStrip, legend } from './charts.js'
import { $, h, replace } from './dom.js'
import { formatDuration, formatLocal, statusLabel, timeElement, triggerZone } from './format.js'
import { act, removeJob, runNow } from './job-actions.js'
import { renderAudit } from './job-audit.js'
import { jobState } from './jobs-list.js'
import { current, hashFor } from './router.js'

/** Executions in the strip (the route's maximum). */
const HISTORY = 100

let render = 0
export async function renderJob (id) {
  const ticket = ++render
  const path = `jobs/${encodeURIComponent(id)}`
  const [job, history] = await Promise.all([api('GET', path), api('GET', `${path}/run-history?limit=${HISTORY}`)])
  if (ticket !== render || current.view !== 'view-job') return
  const zone = triggerZone(job.trigger)
  replace($('job-title'), 'Job ', h('code', {}, job.id))
  replace($('job-subtitle'), job.name && job.name !== job.id ? job.name : '')
  const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, value)]
  replace($('job-details'),
    row('Task', h('code', {}, job.task)),
    row('Trigger', job.description ?? JSON.stringify(job.trigger)),
    row('Next run', job.paused ? h('span', { class: 'muted' }, 'paused') : timeElement(job.nextRunTime, zone)),
    row('State', jobState(job)),
    row('Retries', describeRetry(job.retry)),
    row('Recover', !job.recover ? 'no' : job.retry ? 'yes: an abandoned run gets another attempt' : 'set, but without retry attempts no abandoned run can be recovered'),
    job.lastError ? row('Cannot run', h('span', { class: 'error-text' }, job.lastError)) : null)
  replace($('job-actions'),
    h('button', { type: 'button', 'aria-label': `Run ${job.id} now`, onclick: () => runNow(job) }, 'Run now'),
    job.paused
      ? h('button', { type: 'button', 'aria-label': `Resume ${job.id}`, onclick: () => act(job, 'resume', 'resumed') }, 'Resume')
      : h('button', { type: 'button', 'aria-label': `Pause ${job.id}`, onclick: () => act(job, 'pause', 'paused') }, 'Pause'),
    h('a', { class: 'button', href: hashFor(`/jobs/${encodeURIComponent(job.id)}/edit`) }, 'Edit'),
    h('a', { class: 'button', href: hashFor('/executions', { job: job.id }) }, 'All executions'),
    h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${job.id}`, onclick: async () => { if (await removeJob(job)) location.hash = '#/jobs' } }, 'Delete'))
  renderHistory(history)
  await renderAudit(id, () => ticket === render && current.view === 'view-job')
}

let shownHistory = ''

/**
 * The strip, its success rate and legend; an empty history says so instead. Redrawn only when the
 * history changed, so the page's polling does not take the keyboard focus or the hovered bar away.
 */
function renderHistory (history) {
  const signature = JSON.stringify(history)
  if (signature === shownHistory && $('job-history').isConnected && $('job-history').childElementCount > 0) return
  shownHistory = signature
  const executions = history.executions
  replace($('job-success-rate'), history.successRate === null
    ? 'Success rate: no finished runs yet'
    : ['Success rate: ', h('strong', {}, `${formatRate(history.successRate)}`), ` (${history.succeeded} of ${history.finished} finished runs)`])
  if (executions.length === 0) {
    replace($('job-history'), h('p', { class: 'empty' }, 'No executions yet.'))
    return
  }
  const idle = `Last ${executions.length} execution${executions.length === 1 ? '' : 's'}, oldest left. Point at a bar, or focus the chart and use the arrow keys.`
  const { chart, caption } = barStrip(executions.map((execution) => ({
    value: execution.durationMs,
    status: execution.status,
    href: hashFor(`/executions/${execution.id}`),
    label: describeRun(execution)
  })), { slots: Math.max(executions.length, 30), label: `Run history of ${history.jobId}: bar height is duration, colour is status`, caption: idle })
  const statuses = [...new Set(executions.map((execution) => execution.status))]
  replace($('job-history'), chart, caption, legend(statuses, statusLabel))
}

/** "up to 5 attempts, exponential backoff from 2 s (at most 1 min)", or "none". */
function describeRetry (retry) {
  if (!retry) return 'none (one attempt)'
  const wait = retry.backoff === 'fixed' ? `${formatDuration(retry.delayMs)} between attempts` : `exponential backoff from ${formatDuration(retry.delayMs)} (at most ${formatDuration(retry.maxDelayMs)})`
  return `up to ${retry.attempts} attempts, ${wait}`
}

/** "#42 · 1 Dec 2026, 21:05:00 UTC · Executed · 120 ms" */
function describeRun (execution) {
  const duration = execution.durationMs === null ? 'no duration' : formatDuration(execution.durationMs)
  return `#${execution.id} · ${formatLocal(execution.runTime)} · ${statusLabel(execution.status)} · ${duration}`
}

/** A rate in [0, 1] as a percentage with at most one decimal: 0.75 → "75%", 2/3 → "66.7%". */
export function formatRate (rate) {
  return `${Math.round(rate * 1000) / 10}%`
}
