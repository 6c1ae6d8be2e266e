// Admin page of fastify-mikro-scheduler: a plain ES module, no framework, no build step.
// It is a client of the admin REST routes served under the same prefix (`jobs`, `executions`,
// `status`, `tasks`, `fire-times`). Everything that comes from the server or the user is written
// with textContent / setAttribute (see `h`), never as HTML.

const TOKEN_KEY = 'fastify-mikro-scheduler:token'
const PAGE_SIZE = 25
const POLL_MS = 3000
const RUN_POLL_MS = 700

/** Labels of execution statuses (STATUS_LABELS in src/execution-status.ts). */
export const STATUS_LABELS = {
  queued: 'Queued',
  running: 'Started execution',
  success: 'Executed',
  error: 'Error!',
  missed: 'Missed!',
  max_instances: 'Max instances!',
  timeout: 'Timed out',
  abandoned: 'Abandoned'
}
const ACTIVE_STATUSES = new Set(['queued', 'running'])

const base = new URL('.', location.href)
const $ = (id) => document.getElementById(id)

// ---------------------------------------------------------------------------------------------
// DOM helpers: the only way this file builds elements. Strings become text nodes.

function h (tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') element.className = value
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  append(element, children)
  return element
}

function append (element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    element.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return element
}

function replace (element, ...children) {
  element.replaceChildren()
  return append(element, children)
}

function show (element, visible) { element.hidden = !visible }

// ---------------------------------------------------------------------------------------------
// API client

class ApiError extends Error {
  constructor (status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.body = body ?? {}
  }
}

function token () { return sessionStorage.getItem(TOKEN_KEY) }

async function api (method, path, body) {
  const headers = { accept: 'application/json' }
  const saved = token()
  if (saved) headers.authorization = `Bearer ${saved}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store'
  })
  const text = await response.text()
  let data = null
  try { data = text === '' ? null : JSON.parse(text) } catch { data = { message: text.slice(0, 500) } }
  if (response.status === 401 || response.status === 403) {
    signedOut(saved ? 'The token was refused; check it and sign in again.' : '')
    throw new ApiError(response.status, data)
  }
  if (!response.ok) throw new ApiError(response.status, data)
  return data
}

function query (params) {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

// ---------------------------------------------------------------------------------------------
// Formatting

const localFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' })
const zoneFormats = new Map()

function zoneFormat (timeZone) {
  if (!zoneFormats.has(timeZone)) {
    let format = null
    try { format = new Intl.DateTimeFormat(undefined, { timeZone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }) } catch { format = null }
    zoneFormats.set(timeZone, format)
  }
  return zoneFormats.get(timeZone)
}

function formatLocal (iso) {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? String(iso) : localFormat.format(date)
}

function formatInZone (iso, timeZone) {
  if (!iso) return '—'
  const format = zoneFormat(timeZone)
  return format === null ? '' : format.format(new Date(iso))
}

function timeElement (iso, timeZone) {
  if (!iso) return h('span', { class: 'muted' }, '—')
  const local = formatLocal(iso)
  const children = [h('time', { datetime: iso, title: iso }, local)]
  if (timeZone) {
    const zoned = formatInZone(iso, timeZone)
    if (zoned && zoned !== local) children.push(h('span', { class: 'zoned' }, `${zoned} (${timeZone})`))
  }
  return h('span', { class: 'when' }, children)
}

function formatDuration (ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—'
  const value = Number(ms)
  if (value < 1000) return `${Math.round(value)} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`
  const minutes = Math.floor(value / 60_000)
  return `${minutes} min ${Math.round((value % 60_000) / 1000)} s`
}

function statusBadge (status) {
  const known = Object.hasOwn(STATUS_LABELS, status)
  return h('span', { class: `badge status-${known ? status : 'unknown'}`, 'data-status': status }, known ? STATUS_LABELS[status] : String(status))
}

/** The time zone a trigger's times are in: its own, its first member's for and/or, else UTC. */
function triggerZone (trigger) {
  if (!trigger || typeof trigger !== 'object') return 'UTC'
  if (typeof trigger.timezone === 'string') return trigger.timezone
  if (Array.isArray(trigger.triggers) && trigger.triggers.length > 0) return triggerZone(trigger.triggers[0])
  return 'UTC'
}

function firstLine (text, max = 160) {
  if (!text) return ''
  const line = String(text).split('\n')[0]
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

// ---------------------------------------------------------------------------------------------
// Notices (run now, actions) and errors

let noticeTimer = null
function notice (children, { sticky = false, kind = 'info' } = {}) {
  const box = $('notice')
  clearTimeout(noticeTimer)
  box.className = `notice ${kind}`
  replace(box, children)
  show(box, true)
  if (!sticky) noticeTimer = setTimeout(() => show(box, false), 8000)
  return box
}

function errorText (error) {
  if (error instanceof ApiError) return `${error.body.message ?? error.message}${error.body.code ? ` (${error.body.code})` : ''}`
  return error?.message ?? String(error)
}

// ---------------------------------------------------------------------------------------------
// Sign-in: shown when the API answers 401/403

let routeAfterSignIn = null

function signedOut (message) {
  sessionStorage.removeItem(TOKEN_KEY)
  show($('sign-out'), false)
  if (!$('view-login').hidden) return
  routeAfterSignIn = location.hash
  for (const view of document.querySelectorAll('main > section')) show(view, view.id === 'view-login')
  replace($('login-token-error'), message)
  $('login-token').value = ''
  $('login-token').focus()
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const value = $('login-token').value.trim()
  if (value === '') { replace($('login-token-error'), 'Enter the admin token.'); return }
  sessionStorage.setItem(TOKEN_KEY, value)
  show($('view-login'), false)
  show($('sign-out'), true)
  replace($('login-token-error'), '')
  $('login-token').value = ''
  await loadTasks()
  refreshStatus()
  if (routeAfterSignIn && routeAfterSignIn !== location.hash) location.hash = routeAfterSignIn
  else route()
})

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY)
  show($('sign-out'), false)
  signedOut('Signed out.')
})

// ---------------------------------------------------------------------------------------------
// Routing: the view and its filters live in the URL hash, so polling and reloads keep them.

function parseHash () {
  const raw = location.hash.replace(/^#/, '') || '/jobs'
  const at = raw.indexOf('?')
  const path = at === -1 ? raw : raw.slice(0, at)
  const params = new URLSearchParams(at === -1 ? '' : raw.slice(at + 1))
  const parts = path.split('/').filter(Boolean).map((part) => decodeURIComponent(part))
  return { parts, params }
}

function hashFor (path, params = {}) {
  return `#${path}${query(params)}`
}

/** Changes the filters in the hash without adding a history entry per keystroke. */
function replaceParams (params) {
  const { parts } = parseHash()
  history.replaceState(null, '', hashFor(`/${parts.map(encodeURIComponent).join('/')}`, params))
  route()
}

let current = { view: null, refresh: null }

function activate (viewId, refresh) {
  for (const view of document.querySelectorAll('main > section')) show(view, view.id === viewId)
  for (const link of document.querySelectorAll('header nav a')) {
    const section = link.id.replace('nav-', '')
    if (viewId.includes(section.slice(0, -1))) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  current = { view: viewId, refresh }
}

async function route () {
  if (!$('view-login').hidden) return
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
    } else {
      activate('view-jobs', () => renderJobs(parseHash().params))
      syncJobFilters(params)
      await renderJobs(params)
    }
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return
    notice(`Could not load: ${errorText(error)}`, { kind: 'error', sticky: true })
  }
}

window.addEventListener('hashchange', route)

// ---------------------------------------------------------------------------------------------
// Tasks (for the form and the filter)

let tasks = []
async function loadTasks () {
  try {
    const data = await api('GET', 'tasks')
    const list = Array.isArray(data) ? data : (data?.items ?? data?.tasks ?? [])
    tasks = list.map((task) => (typeof task === 'string' ? task : task.name)).filter(Boolean).sort()
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return
    tasks = []
  }
  const select = $('jobs-task')
  const chosen = select.value
  replace(select, h('option', { value: '' }, 'All tasks'), tasks.map((task) => h('option', { value: task }, task)))
  select.value = chosen
}

// ---------------------------------------------------------------------------------------------
// Jobs list

function syncJobFilters (params) {
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

let searchTimer = null
$('jobs-search').addEventListener('input', () => {
  clearTimeout(searchTimer)
  searchTimer = setTimeout(() => replaceParams({ ...jobFilterParams(), offset: undefined }), 250)
})
$('jobs-task').addEventListener('change', () => replaceParams({ ...jobFilterParams(), offset: undefined }))
$('jobs-paused').addEventListener('change', () => replaceParams({ ...jobFilterParams(), offset: undefined }))
$('jobs-filter').addEventListener('submit', (event) => { event.preventDefault(); replaceParams({ ...jobFilterParams(), offset: undefined }) })

let jobsRender = 0
async function renderJobs (params) {
  const ticket = ++jobsRender
  const offset = Number(params.get('offset') ?? 0) || 0
  const page = await api('GET', `jobs${query({ search: params.get('search'), task: params.get('task'), paused: params.get('paused'), limit: PAGE_SIZE, offset })}`)
  const items = Array.isArray(page) ? page : (page.items ?? [])
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
    const page = await api('GET', `jobs/${encodeURIComponent(job.id)}/executions${query({ limit: 20 })}`)
    const executions = Array.isArray(page) ? page : (page.items ?? [])
    const durations = executions.map((execution) => execution.durationMs).filter((value) => typeof value === 'number')
    const average = durations.length === 0 ? null : durations.reduce((sum, value) => sum + value, 0) / durations.length
    return { last: executions[0] ?? null, average }
  } catch {
    return { last: null, average: null }
  }
}

function cell (label, ...children) {
  return h('td', { 'data-label': label }, children)
}

function jobRow (job, stats) {
  const zone = triggerZone(job.trigger)
  const state = job.paused
    ? h('span', { class: 'pill paused' }, 'Paused')
    : job.nextRunTime ? h('span', { class: 'pill active' }, 'Active') : h('span', { class: 'pill finished' }, 'Finished')
  const idCell = cell('Job',
    h('a', { href: hashFor('/executions', { job: job.id }), class: 'job-id', title: 'Executions of this job' }, job.id),
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
    cell('State', state),
    h('td', { class: 'actions-cell' }, actions))
}

function pager (container, total, offset, go) {
  const end = Math.min(offset + PAGE_SIZE, total)
  replace(container,
    h('span', {}, total === 0 ? '' : `${offset + 1}–${end} of ${total}`),
    offset > 0 ? h('button', { type: 'button', onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }, '← Newer') : null,
    end < total ? h('button', { type: 'button', onclick: () => go(offset + PAGE_SIZE) }, 'Older →') : null)
}

async function act (job, action, done) {
  try {
    await api('POST', `jobs/${encodeURIComponent(job.id)}/${action}`)
    notice(`Job ${job.id} ${done}.`)
  } catch (error) {
    notice(`Could not ${action} ${job.id}: ${errorText(error)}`, { kind: 'error' })
  }
  await refreshNow()
}

async function runNow (job) {
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

async function removeJob (job) {
  const dialog = $('confirm')
  replace($('confirm-text'), 'Delete job ', h('strong', {}, job.id), '? Its execution history is kept.')
  dialog.returnValue = ''
  dialog.showModal()
  const answer = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }))
  if (answer !== 'ok') return
  try {
    await api('DELETE', `jobs/${encodeURIComponent(job.id)}`)
    notice(`Job ${job.id} deleted.`)
  } catch (error) {
    notice(`Could not delete ${job.id}: ${errorText(error)}`, { kind: 'error' })
  }
  await refreshNow()
}

// ---------------------------------------------------------------------------------------------
// Job form: add and edit, with a live preview of the next fire times

let editing = null
let previewTimer = null
let previewTicket = 0

const TRIGGER_KEYS = ['timezone', 'startDate', 'endDate', 'jitter']
const UNITS = ['weeks', 'days', 'hours', 'minutes', 'seconds']
const FIELDS = ['year', 'month', 'day', 'week', 'dayOfWeek', 'hour', 'minute', 'second']
const JOB_FIELDS = ['id', 'name', 'task', 'args', 'misfireGraceTime', 'maxInstances', 'timeoutMs', 'coalesce', 'paused']

function fillTimezones () {
  const list = $('timezones')
  if (list.childElementCount > 0) return
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  append(list, ['UTC', ...zones.filter((zone) => zone !== 'UTC')].map((zone) => h('option', { value: zone })))
}

function clearErrors () {
  for (const element of document.querySelectorAll('#job-form .field-error')) replace(element, '')
  for (const element of document.querySelectorAll('#job-form [aria-invalid]')) element.removeAttribute('aria-invalid')
  replace($('job-form-error'), '')
  show($('job-form-error'), false)
}

function clearTriggerErrors () {
  for (const element of document.querySelectorAll('#job-form fieldset .field-error, #trigger-error')) replace(element, '')
  for (const element of document.querySelectorAll('#job-form fieldset [aria-invalid]')) element.removeAttribute('aria-invalid')
}

let shownTriggerType = 'crontab'
function setTriggerType (type) {
  shownTriggerType = type
  $('job-trigger-type').value = type
  for (const fieldset of document.querySelectorAll('fieldset.trigger')) show(fieldset, fieldset.dataset.type === type)
  show($('trigger-common'), type !== 'json')
}

/** A stored date (ISO with offset, or a wall time) as the `datetime-local` value in `timeZone`. */
function toLocalInput (value, timeZone) {
  if (!value) return ''
  const wall = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)$/.exec(value)
  if (wall) return `${wall[1]}T${wall[2].length === 5 ? `${wall[2]}:00` : wall[2]}`
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return ''
  let parts
  try {
    parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(date).map((part) => [part.type, part.value]))
  } catch { return '' }
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`
}

function fromLocalInput (value) {
  if (!value) return undefined
  const [date, time] = value.split('T')
  return `${date} ${time.length === 5 ? `${time}:00` : time}`
}

function resetForm () {
  const form = $('job-form')
  form.reset()
  clearErrors()
  $('job-args').value = '[]'
  $('job-maxInstances').value = '1'
  $('job-coalesce').checked = true
  $('trigger-json').value = ''
  $('job-options').open = false
  replace($('preview-list'))
  replace($('preview-description'), '')
}

async function openJobForm (id) {
  fillTimezones()
  if (tasks.length === 0) await loadTasks()
  resetForm()
  editing = null
  const taskSelect = $('job-task')
  replace(taskSelect, h('option', { value: '' }, 'Choose a task…'), tasks.map((task) => h('option', { value: task }, task)))
  if (id === null) {
    replace($('job-form-title'), 'Add job')
    $('job-id').readOnly = false
    $('job-id').removeAttribute('aria-readonly')
    setTriggerType('crontab')
    $('trigger-timezone').value = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC'
    $('job-id').focus()
    return
  }
  const job = await api('GET', `jobs/${encodeURIComponent(id)}`)
  editing = job
  replace($('job-form-title'), 'Edit job ', h('code', {}, job.id))
  $('job-id').value = job.id
  $('job-id').readOnly = true
  $('job-id').setAttribute('aria-readonly', 'true')
  $('job-name').value = job.name && job.name !== job.id ? job.name : ''
  if (!tasks.includes(job.task)) taskSelect.append(h('option', { value: job.task }, `${job.task} (not registered here)`))
  taskSelect.value = job.task
  $('job-args').value = JSON.stringify(job.args ?? [])
  $('job-misfireGraceTime').value = job.misfireGraceTime ?? ''
  $('job-maxInstances').value = job.maxInstances ?? 1
  $('job-timeoutMs').value = job.timeoutMs ?? ''
  $('job-coalesce').checked = job.coalesce !== false
  $('job-paused').checked = job.paused === true
  fillTrigger(job.trigger ?? {})
  $('job-name').focus()
  schedulePreview(0)
}

function fillTrigger (trigger) {
  const zone = triggerZone(trigger)
  if (trigger.type === 'cron' && typeof trigger.expression === 'string') {
    setTriggerType('crontab')
    $('trigger-expression').value = trigger.expression
  } else if (trigger.type === 'cron') {
    setTriggerType('fields')
    for (const field of FIELDS) $(`trigger-fields-${field}`).value = trigger.fields?.[field] ?? ''
  } else if (trigger.type === 'interval') {
    setTriggerType('interval')
    for (const unit of UNITS) $(`trigger-${unit}`).value = trigger[unit] ?? ''
  } else if (trigger.type === 'date') {
    setTriggerType('date')
    $('trigger-runDate').value = toLocalInput(trigger.runDate, zone)
  } else {
    setTriggerType('json')
    const { version, ...rest } = trigger
    $('trigger-json').value = JSON.stringify(rest, null, 2)
    return
  }
  $('trigger-timezone').value = trigger.timezone ?? 'UTC'
  $('trigger-startDate').value = toLocalInput(trigger.startDate, zone)
  $('trigger-endDate').value = toLocalInput(trigger.endDate, zone)
  $('trigger-jitter').value = trigger.jitter ?? ''
}

/** The trigger JSON the form describes, or throws { field, message } for what cannot even be sent. */
function triggerFromForm () {
  const type = $('job-trigger-type').value
  if (type === 'json') {
    const text = $('trigger-json').value.trim()
    if (text === '') throw { field: 'trigger-json', message: 'Enter a trigger as JSON.' }
    try { return JSON.parse(text) } catch (error) { throw { field: 'trigger-json', message: `Not JSON: ${error.message}` } }
  }
  let trigger
  if (type === 'crontab') {
    trigger = { type: 'cron', expression: $('trigger-expression').value.trim() }
  } else if (type === 'fields') {
    const fields = {}
    for (const field of FIELDS) {
      const value = $(`trigger-fields-${field}`).value.trim()
      if (value !== '') fields[field] = /^\d+$/.test(value) && field !== 'dayOfWeek' ? Number(value) : value
    }
    trigger = { type: 'cron', fields }
  } else if (type === 'interval') {
    trigger = { type: 'interval' }
    for (const unit of UNITS) {
      const value = $(`trigger-${unit}`).value.trim()
      if (value !== '') trigger[unit] = Number(value)
    }
  } else {
    trigger = { type: 'date', runDate: fromLocalInput($('trigger-runDate').value) ?? '' }
  }
  const timezone = $('trigger-timezone').value.trim()
  if (timezone !== '') trigger.timezone = timezone
  const startDate = fromLocalInput($('trigger-startDate').value)
  if (startDate) trigger.startDate = startDate
  const endDate = fromLocalInput($('trigger-endDate').value)
  if (endDate) trigger.endDate = endDate
  const jitter = $('trigger-jitter').value.trim()
  if (jitter !== '') trigger.jitter = Number(jitter)
  return trigger
}

function schedulePreview (delay = 300) {
  clearTimeout(previewTimer)
  previewTimer = setTimeout(preview, delay)
}

async function preview () {
  const ticket = ++previewTicket
  clearTriggerErrors()
  let trigger
  try { trigger = triggerFromForm() } catch (problem) {
    replace($('preview-list'))
    replace($('preview-description'), '')
    fieldError(problem.field, problem.message)
    return
  }
  try {
    const data = await api('POST', 'fire-times', { trigger, count: 5 })
    if (ticket !== previewTicket) return
    const times = Array.isArray(data) ? data : (data.fireTimes ?? data.items ?? data.times ?? [])
    const zone = triggerZone(trigger)
    replace($('preview-description'), data.description ?? '')
    replace($('preview-list'), times.length === 0
      ? h('li', { class: 'muted' }, 'No fire times: this trigger never fires from now on.')
      : times.map((time) => h('li', {}, timeElement(typeof time === 'string' ? time : time.fireTime ?? time.time, zone))))
  } catch (error) {
    if (ticket !== previewTicket) return
    replace($('preview-list'))
    replace($('preview-description'), '')
    if (error instanceof ApiError && error.status < 500) showServerError(error, { triggerOnly: true })
  }
}

$('job-trigger-type').addEventListener('change', () => {
  const type = $('job-trigger-type').value
  // Switching to JSON starts from what the other fields describe, so and/or can wrap it.
  if (type === 'json' && $('trigger-json').value.trim() === '' && shownTriggerType !== 'json') {
    try { $('trigger-json').value = JSON.stringify(triggerFromFormAs(shownTriggerType), null, 2) } catch { /* leave it empty */ }
  }
  setTriggerType(type)
  schedulePreview(0)
})

function triggerFromFormAs (type) {
  const select = $('job-trigger-type')
  const saved = select.value
  select.value = type
  try { return triggerFromForm() } finally { select.value = saved }
}

for (const element of document.querySelectorAll('#job-form fieldset input, #job-form fieldset textarea')) {
  element.addEventListener('input', () => schedulePreview())
}

/** The element that shows errors about `path` (a field of the job, or `trigger.<path>`). */
function errorSlot (path) {
  const type = $('job-trigger-type').value
  if (path === 'trigger-json') return 'trigger-json'
  if (path.startsWith('trigger')) {
    const inner = path.replace(/^trigger\.?/, '')
    if (type === 'json') return 'trigger-json'
    if (inner === '' || inner === 'type') return 'trigger'
    if (inner === 'expression') return 'trigger-expression'
    if (inner.startsWith('fields.')) return FIELDS.includes(inner.slice(7)) ? `trigger-fields-${inner.slice(7)}` : 'trigger-fields'
    if (inner === 'fields') return 'trigger-fields'
    if (UNITS.includes(inner)) return 'trigger-interval'
    if (TRIGGER_KEYS.includes(inner) || inner === 'runDate') return `trigger-${inner}`
    return 'trigger'
  }
  if (JOB_FIELDS.includes(path)) return `job-${path}`
  return null
}

function fieldError (slot, message) {
  const element = slot === null ? null : $(`${slot}-error`)
  if (element === null) {
    replace($('job-form-error'), message)
    show($('job-form-error'), true)
    return
  }
  replace(element, message)
  const input = $(slot)
  if (input) input.setAttribute('aria-invalid', 'true')
}

/** Which field a server error is about: the code, then the field its message names. */
export function errorPath (body) {
  const code = body?.code ?? ''
  const message = String(body?.message ?? '')
  if (code === 'FST_SCHEDULER_CONFLICTING_ID') return 'id'
  if (code === 'FST_SCHEDULER_TASK_NOT_REGISTERED') return 'task'
  let match = /invalid trigger: ([\w.[\]]+):/.exec(message)
  if (match) return match[1] === 'trigger' ? 'trigger' : `trigger.${match[1]}`
  match = /invalid job: ([\w.[\]]+):/.exec(message)
  if (match) return match[1]
  match = /body[/.]([\w/.[\]]+)/.exec(message)
  if (match) return match[1].replaceAll('/', '.').replace(/\.$/, '')
  match = /^([\w.[\]]+):/.exec(message)
  if (match) return match[1]
  if (/trigger/i.test(message)) return 'trigger'
  return null
}

function showServerError (error, { triggerOnly = false } = {}) {
  const path = errorPath(error.body) ?? (triggerOnly ? 'trigger' : null)
  const slot = path === null ? null : errorSlot(path.startsWith('trigger') || !triggerOnly ? path : `trigger.${path}`)
  fieldError(slot, error.body.message ?? error.message)
  const element = slot ? $(slot) : null
  return element
}

$('job-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  clearErrors()
  const problems = []
  const id = $('job-id').value.trim()
  if (editing === null && id === '') problems.push(['job-id', 'Enter an id.'])
  const task = $('job-task').value
  if (task === '') problems.push(['job-task', 'Choose a task.'])
  let args = []
  try {
    args = JSON.parse($('job-args').value.trim() === '' ? '[]' : $('job-args').value)
    if (!Array.isArray(args)) problems.push(['job-args', 'Arguments must be a JSON array, e.g. ["eu", 42].'])
  } catch (error) {
    problems.push(['job-args', `Not valid JSON: ${error.message}`])
  }
  let trigger = null
  try { trigger = triggerFromForm() } catch (problem) { problems.push([problem.field, problem.message]) }
  const numbers = {}
  for (const name of ['misfireGraceTime', 'maxInstances', 'timeoutMs']) {
    const raw = $(`job-${name}`).value.trim()
    if (raw === '') { numbers[name] = name === 'maxInstances' ? undefined : null; continue }
    const value = Number(raw)
    if (!Number.isInteger(value) || value < (name === 'misfireGraceTime' ? 0 : 1)) problems.push([`job-${name}`, 'Enter a whole number.'])
    numbers[name] = value
  }
  if (problems.length > 0) {
    for (const [slot, message] of problems) fieldError(slot, message)
    $(problems[0][0])?.focus()
    return
  }
  const name = $('job-name').value.trim()
  const body = { task, args, trigger, coalesce: $('job-coalesce').checked, ...numbers }
  if (name !== '') body.name = name
  if (numbers.maxInstances === undefined) delete body.maxInstances
  const save = $('job-save')
  save.disabled = true
  try {
    if (editing === null) {
      await api('POST', 'jobs', { id, ...body, paused: $('job-paused').checked })
      notice(`Job ${id} added.`)
    } else {
      await api('PATCH', `jobs/${encodeURIComponent(editing.id)}`, body)
      const paused = $('job-paused').checked
      if (paused !== editing.paused) await api('POST', `jobs/${encodeURIComponent(editing.id)}/${paused ? 'pause' : 'resume'}`)
      notice(`Job ${editing.id} saved.`)
    }
    location.hash = '#/jobs'
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return
    const element = error instanceof ApiError ? showServerError(error) : (fieldError(null, errorText(error)), null)
    if (element && element.closest('details')) element.closest('details').open = true
    element?.focus()
  } finally {
    save.disabled = false
  }
})

// ---------------------------------------------------------------------------------------------
// Executions

function syncExecutionFilters (params) {
  const job = $('executions-job')
  if (document.activeElement !== job) job.value = params.get('job') ?? ''
  $('executions-status').value = params.get('status') ?? ''
}

function executionFilterParams () {
  return { job: $('executions-job').value.trim(), status: $('executions-status').value }
}

append($('executions-status'), Object.entries(STATUS_LABELS).map(([status, label]) => h('option', { value: status }, label)))
let jobFilterTimer = null
$('executions-job').addEventListener('input', () => {
  clearTimeout(jobFilterTimer)
  jobFilterTimer = setTimeout(() => replaceParams(executionFilterParams()), 300)
})
$('executions-status').addEventListener('change', () => replaceParams(executionFilterParams()))
$('executions-filter').addEventListener('submit', (event) => { event.preventDefault(); replaceParams(executionFilterParams()) })

let executionsRender = 0
async function renderExecutions (params) {
  const ticket = ++executionsRender
  const offset = Number(params.get('offset') ?? 0) || 0
  const job = params.get('job')
  const page = await api('GET', `executions${query({ jobId: job, status: params.get('status'), limit: PAGE_SIZE, offset })}`)
  if (ticket !== executionsRender || current.view !== 'view-executions') return
  const items = Array.isArray(page) ? page : (page.items ?? [])
  replace($('executions-body'), items.map((execution) => h('tr', { 'data-execution-id': execution.id, 'data-status': execution.status },
    cell('Id', h('a', { href: hashFor(`/executions/${execution.id}`), 'aria-label': `Execution ${execution.id} details` }, `#${execution.id}`)),
    cell('Job', h('a', { href: hashFor('/executions', { job: execution.jobId }) }, execution.jobId)),
    cell('Run time', timeElement(execution.runTime)),
    cell('Status', statusBadge(execution.status)),
    cell('Duration', formatDuration(execution.durationMs)),
    cell('Exception', execution.exception ? h('a', { href: hashFor(`/executions/${execution.id}`), class: 'error-text' }, firstLine(execution.exception, 120)) : ''))))
  show($('executions-empty'), items.length === 0)
  pager($('executions-pager'), page.total ?? items.length, offset, (next) => replaceParams({ ...executionFilterParams(), offset: next || undefined }))
}

async function renderExecution (id) {
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
    row('Node', execution.owner ?? '—'))
  replace($('execution-exception'), execution.exception ?? '—')
  replace($('execution-traceback'), execution.traceback ?? '—')
  current.refresh = ACTIVE_STATUSES.has(execution.status) ? () => renderExecution(id) : null
}

// ---------------------------------------------------------------------------------------------
// Status strip and polling

async function refreshStatus () {
  try {
    const status = await api('GET', 'status')
    replace($('status-node'), h('code', {}, status.nodeId ?? '?'), status.isLeader ? h('span', { class: 'pill active' }, 'leader') : '')
    const leader = status.leader
    replace($('status-leader'), leader ? h('code', {}, typeof leader === 'string' ? leader : (leader.nodeId ?? JSON.stringify(leader))) : h('span', { class: 'muted' }, status.lock === 'none' ? 'none (every node loops)' : 'unknown'))
    const running = Array.isArray(status.runningExecutions) ? status.runningExecutions.length : (status.runningExecutions ?? 0)
    replace($('status-running'), h('a', { href: hashFor('/executions', { status: 'running' }) }, String(running)))
    replace($('status-next'), timeElement(status.nextWakeup))
    show($('status-error'), false)
    show($('sign-out'), token() !== null)
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return
    replace($('status-error'), `Status unavailable: ${errorText(error)}`)
    show($('status-error'), true)
  }
}

async function refreshNow () {
  if (current.refresh) {
    try { await current.refresh() } catch { /* the next poll tries again */ }
  }
}

async function poll () {
  if (document.visibilityState !== 'hidden' && $('view-login').hidden) {
    await Promise.all([refreshStatus(), refreshNow()])
  }
  setTimeout(poll, POLL_MS)
}

// ---------------------------------------------------------------------------------------------

async function start () {
  show($('sign-out'), token() !== null)
  await refreshStatus()
  if (!$('view-login').hidden) return setTimeout(poll, POLL_MS)
  await loadTasks()
  await route()
  setTimeout(poll, POLL_MS)
}

start()
