// What a person can do to a job from the page: run it now (and follow the run), pause or resume
// it, delete it after confirming. Each refreshes the shown view afterwards.
import { api, ApiError } from './api.js'
import { $, h, replace } from './dom.js'
import { ACTIVE_STATUSES, firstLine, formatDuration, statusBadge } from './format.js'
import { errorText, notice } from './notice.js'
import { hashFor, refreshNow } from './router.js'

/** Milliseconds between polls of a run started with "Run now". */
const RUN_POLL_MS = 700

/** `action` is `pause` or `resume`; `done` the past tense for the notice. */
export async function act (job, action, done) {
  try {
    await api('POST', `jobs/${encodeURIComponent(job.id)}/${action}`)
    notice(`Job ${job.id} ${done}.`)
  } catch (error) {
    notice(`Could not ${action} ${job.id}: ${errorText(error)}`, { kind: 'error' })
  }
  await refreshNow()
}

/** Queues a run and shows it in a sticky notice until it has an outcome. */
export async function runNow (job) {
  let execution
  try {
    execution = await api('POST', `jobs/${encodeURIComponent(job.id)}/run`)
  } catch (error) {
    notice(`Could not run ${job.id}: ${errorText(error)}`, { kind: 'error' })
    return
  }
  execution = execution?.execution ?? execution
  const describe = (run) => [
    'Run of ', h('strong', {}, job.id), ' ',
    h('a', { href: hashFor(`/executions/${run.id}`), class: 'run-link', 'data-execution-id': run.id }, `#${run.id}`), ': ',
    statusBadge(run.status),
    run.durationMs !== null && run.durationMs !== undefined ? ` in ${formatDuration(run.durationMs)}` : '',
    run.exception ? [' — ', h('span', { class: 'error-text' }, firstLine(run.exception))] : ''
  ]
  const box = notice(describe(execution), { sticky: true })
  box.dataset.executionId = String(execution.id)
  refreshNow()
  while (ACTIVE_STATUSES.has(execution.status) && box.dataset.executionId === String(execution.id)) {
    await new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS))
    try {
      execution = await api('GET', `executions/${execution.id}`)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) break
      continue
    }
    if (box.dataset.executionId === String(execution.id)) replace(box, describe(execution))
  }
  refreshNow()
}

/** Asks in the confirm dialog, then deletes the job (its history stays). Resolves true when deleted. */
export async function removeJob (job) {
  const dialog = $('confirm')
  replace($('confirm-text'), 'Delete job ', h('strong', {}, job.id), '? Its execution history is kept.')
  dialog.returnValue = ''
  dialog.showModal()
  const answer = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }))
  if (answer !== 'ok') return false
  let deleted = false
  try {
    await api('DELETE', `jobs/${encodeURIComponent(job.id)}`)
    notice(`Job ${job.id} deleted.`)
    deleted = true
  } catch (error) {
    notice(`Could not delete ${job.id}: ${errorText(error)}`, { kind: 'error' })
  }
  await refreshNow()
  return deleted
}
