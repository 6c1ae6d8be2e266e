// A job's audit history on its page (`#/jobs/<id>`): who changed what and when, newest first, from
// `GET jobs/:id/audit` (the newest 50): time, action, actor, and each changed field before → after.
import { api, itemsOf } from './api.js'
import { $, cell, h, replace } from './dom.js'
import { timeElement } from './format.js'

/** Entries shown. */
const AUDIT_LIMIT = 50
/** Characters of one value shown before it is cut (the full JSON is in its title). */
const VALUE_CHARS = 120

const ACTION_LABELS = {
  added: 'Added',
  modified: 'Modified',
  rescheduled: 'Rescheduled',
  paused: 'Paused',
  resumed: 'Resumed',
  removed: 'Removed',
  run: 'Run now'
}

let shown = ''

/** Fetches and draws the job's audit history; redrawn only when it changed (the page polls). */
export async function renderAudit (id, isCurrent) {
  const page = await api('GET', `jobs/${encodeURIComponent(id)}/audit?limit=${AUDIT_LIMIT}`)
  if (!isCurrent()) return
  const signature = JSON.stringify([id, page])
  if (signature === shown && $('job-audit').isConnected && $('job-audit').childElementCount > 0) return
  shown = signature
  const items = itemsOf(page)
  if (items.length === 0) {
    replace($('job-audit'), h('p', { class: 'empty' }, 'No recorded changes.'))
    return
  }
  replace($('job-audit'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'cards', id: 'job-audit-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Actor'), h('th', { scope: 'col' }, 'Changes'))),
      h('tbody', {}, items.map((entry) => h('tr', { 'data-audit-id': entry.id, 'data-action': entry.action },
        cell('Time', timeElement(entry.at)),
        cell('Action', ACTION_LABELS[entry.action] ?? entry.action),
        cell('Actor', h('code', {}, entry.actor)),
        cell('Changes', changeList(entry))))))),
    page.total > items.length ? h('p', { class: 'muted' }, `The newest ${items.length} of ${page.total} changes.`) : null)
}

/** `field: before → after` per changed field; a run names its execution; an add or removal lists what it set or cleared. */
function changeList (entry) {
  const fields = Object.entries(entry.changes ?? {})
  if (fields.length === 0) return h('span', { class: 'muted' }, 'no field changed')
  return h('ul', { class: 'audit-changes' }, fields.map(([field, { before, after }]) => h('li', {},
    h('code', {}, field), ': ',
    value(before), h('span', { 'aria-label': 'changed to' }, ' → '), value(after))))
}

function value (json) {
  if (json === null || json === undefined) return h('span', { class: 'muted' }, '—')
  const text = typeof json === 'string' ? json : JSON.stringify(json)
  return h('code', { title: text.length > VALUE_CHARS ? text : undefined }, text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}…` : text)
}
