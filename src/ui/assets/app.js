// Admin page of fastify-mikro-scheduler: plain ES modules, no framework, no build step, served by
// src/ui/index.ts under the strict CSP (`script-src 'self'`). It is a client of the admin REST
// routes under the same prefix (`jobs`, `executions`, `status`, `tasks`, `fire-times`). Everything
// that comes from the server or the user is written with textContent / setAttribute (`dom.js`),
// never as HTML.
//
// This entry module holds the route table and the polling; each view has its module:
// jobs-list.js, job-detail.js, job-form.js, executions.js, execution-detail.js, overview.js,
// status.js, login.js; charts.js draws the SVG charts.
import { isAuthError, token } from './api.js'
import { $, show } from './dom.js'
import { renderExecution } from './execution-detail.js'
import { initExecutions, renderExecutions, syncExecutionFilters } from './executions.js'
import { renderJob } from './job-detail.js'
import { initJobForm, openJobForm } from './job-form.js'
import { initJobsList, renderJobs, syncJobFilters } from './jobs-list.js'
import { initLogin, signingIn } from './login.js'
import { errorText, notice } from './notice.js'
import { renderOverview } from './overview.js'
import { activate, parseHash, refreshNow, route, setRouter } from './router.js'
import { refreshStatus } from './status.js'
import { loadTasks } from './tasks.js'

/** Milliseconds between refreshes of the status strip and the shown view. */
const POLL_MS = 3000

async function showRoute () {
  if (signingIn()) return
  const { parts, params } = parseHash()
  try {
    if (parts[0] === 'executions' && parts[1] !== undefined) {
      activate('view-execution', null)
      await renderExecution(parts[1])
    } else if (parts[0] === 'executions') {
      activate('view-executions', () => renderExecutions(params))
      syncExecutionFilters(params)
      await renderExecutions(params)
    } else if (parts[0] === 'jobs' && parts[1] === 'new') {
      activate('view-job-form', null)
      await openJobForm(null)
    } else if (parts[0] === 'jobs' && parts[1] !== undefined && parts[2] === 'edit') {
      activate('view-job-form', null)
      await openJobForm(parts[1])
    } else if (parts[0] === 'jobs' && parts[1] !== undefined) {
      const id = parts[1]
      activate('view-job', () => renderJob(id))
      await renderJob(id)
    } else if (parts[0] === 'overview') {
      activate('view-overview', renderOverview)
      await renderOverview()
    } else {
      activate('view-jobs', () => renderJobs(parseHash().params))
      syncJobFilters(params)
      await renderJobs(params)
    }
  } catch (error) {
    if (isAuthError(error)) return
    notice(`Could not load: ${errorText(error)}`, { kind: 'error', sticky: true })
  }
}

async function poll () {
  if (document.visibilityState !== 'hidden' && !signingIn()) {
    await Promise.all([refreshStatus(), refreshNow()])
  }
  setTimeout(poll, POLL_MS)
}

async function start () {
  setRouter(showRoute)
  window.addEventListener('hashchange', route)
  initLogin(async (hash) => {
    await loadTasks()
    refreshStatus()
    if (hash !== null) location.hash = hash
    else route()
  })
  initJobsList()
  initJobForm()
  initExecutions()
  show($('sign-out'), token() !== null)
  await refreshStatus()
  if (signingIn()) return setTimeout(poll, POLL_MS)
  await loadTasks()
  await route()
  setTimeout(poll, POLL_MS)
}

start()
