// How the admin page writes times, durations and statuses.
import { h } from './dom.js'

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

/** Statuses that still change: pages showing them keep polling. */
export const ACTIVE_STATUSES = new Set(['queued', 'running'])

const FORMAT = { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }
const localFormat = new Intl.DateTimeFormat(undefined, FORMAT)
const zoneFormats = new Map()

function zoneFormat (timeZone) {
  if (!zoneFormats.has(timeZone)) {
    let format = null
    try { format = new Intl.DateTimeFormat(undefined, { ...FORMAT, timeZone }) } catch { format = null }
    zoneFormats.set(timeZone, format)
  }
  return zoneFormats.get(timeZone)
}

/** An ISO instant in the browser's time zone ('—' for none). */
export function formatLocal (iso) {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? String(iso) : localFormat.format(date)
}

function formatInZone (iso, timeZone) {
  if (!iso) return '—'
  const format = zoneFormat(timeZone)
  return format === null ? '' : format.format(new Date(iso))
}

/** A `<time>` in the browser's zone, followed by the same instant in `timeZone` when that differs. */
export function timeElement (iso, timeZone) {
  if (!iso) return h('span', { class: 'muted' }, '—')
  const local = formatLocal(iso)
  const children = [h('time', { datetime: iso, title: iso }, local)]
  if (timeZone) {
    const zoned = formatInZone(iso, timeZone)
    if (zoned && zoned !== local) children.push(h('span', { class: 'zoned' }, `${zoned} (${timeZone})`))
  }
  return h('span', { class: 'when' }, children)
}

/** Milliseconds as `850 ms`, `2.50 s`, `12.5 s`, `3 min 5 s` ('—' for none). */
export function formatDuration (ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—'
  const value = Number(ms)
  if (value < 1000) return `${Math.round(value)} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`
  const minutes = Math.floor(value / 60_000)
  return `${minutes} min ${Math.round((value % 60_000) / 1000)} s`
}

export function statusLabel (status) {
  return Object.hasOwn(STATUS_LABELS, status) ? STATUS_LABELS[status] : String(status)
}

export function statusBadge (status) {
  const known = Object.hasOwn(STATUS_LABELS, status)
  return h('span', { class: `badge status-${known ? status : 'unknown'}`, 'data-status': status }, statusLabel(status))
}

/** The time zone a trigger's times are in: its own, its first member's for and/or, else UTC. */
export function triggerZone (trigger) {
  if (!trigger || typeof trigger !== 'object') return 'UTC'
  if (typeof trigger.timezone === 'string') return trigger.timezone
  if (Array.isArray(trigger.triggers) && trigger.triggers.length > 0) return triggerZone(trigger.triggers[0])
  return 'UTC'
}

/** The first line of `text`, cut to `max` characters with an ellipsis. */
export function firstLine (text, max = 160) {
  if (!text) return ''
  const line = String(text).split('\n')[0]
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
