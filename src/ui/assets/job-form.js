// Job form view (`#/jobs/new`, `#/jobs/<id>/edit`): add and edit, with a live preview of the next
// fire times, and errors shown next to the field they are about (the server's included).
import { api, ApiError, isAuthError } from './api.js'
import { $, append, h, replace, show } from './dom.js'
import { timeElement, triggerZone } from './format.js'
import { errorText, notice } from './notice.js'
import { loadTasks, tasks } from './tasks.js'

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
  $('job-captureLogs').checked = true
  delete $('job-captureLogs').dataset.touched
  $('trigger-json').value = ''
  $('job-options').open = false
  replace($('preview-list'))
  replace($('preview-description'), '')
}

/**
 * Shows the add form (id null) or the edit form of job `id`. The form is marked aria-busy and
 * Save is disabled until the stored job has been loaded into it, so a click on a half-filled form
 * cannot save blanks (and tests wait for the busy mark to go, not for the section to show).
 */
export async function openJobForm (id) {
  const form = $('job-form')
  form.setAttribute('aria-busy', 'true')
  $('job-save').disabled = true
  try {
    await fillJobForm(id)
  } finally {
    form.removeAttribute('aria-busy')
    $('job-save').disabled = false
  }
}

async function fillJobForm (id) {
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
  $('job-captureLogs').checked = job.captureLogs !== false
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

function triggerFromFormAs (type) {
  const select = $('job-trigger-type')
  const saved = select.value
  select.value = type
  try { return triggerFromForm() } finally { select.value = saved }
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

/** Wires the form (once, at start): trigger type switch, live preview, submit. */
export function initJobForm () {
  $('job-trigger-type').addEventListener('change', () => {
    const type = $('job-trigger-type').value
    // Switching to JSON starts from what the other fields describe, so and/or can wrap it.
    if (type === 'json' && $('trigger-json').value.trim() === '' && shownTriggerType !== 'json') {
      try { $('trigger-json').value = JSON.stringify(triggerFromFormAs(shownTriggerType), null, 2) } catch { /* leave it empty */ }
    }
    setTriggerType(type)
    schedulePreview(0)
  })

  $('job-captureLogs').addEventListener('change', () => { $('job-captureLogs').dataset.touched = 'true' })

  for (const element of document.querySelectorAll('#job-form fieldset input, #job-form fieldset textarea')) {
    element.addEventListener('input', () => schedulePreview())
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
    // A new job left at the default takes the scheduler's jobDefaults.captureLogs; a change, or an edit, says it.
    if (editing !== null || $('job-captureLogs').dataset.touched === 'true') body.captureLogs = $('job-captureLogs').checked
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
      if (isAuthError(error)) return
      const element = error instanceof ApiError ? showServerError(error) : (fieldError(null, errorText(error)), null)
      if (element && element.closest('details')) element.closest('details').open = true
      element?.focus()
    } finally {
      save.disabled = false
    }
  })
}
