// SVG charts of the admin page, drawn with `svg()` from dom.js (no library, nothing inline: colours
// come from app.css by status class, so the strict CSP holds). Each chart is a row of bars in a
// viewBox `slots × 10` wide and CHART_HEIGHT high, stretched to the width of its container.
//
// Every bar is keyboard-reachable with one tab stop per chart (roving tabindex: arrow keys, Home,
// End move between bars); hovering or focusing a bar writes its description into the chart's
// caption line (aria-live), and each bar also carries a native <title> tooltip.
import { h, replace, svg } from './dom.js'

/** Height of a chart in viewBox units; bar heights are fractions of it. */
export const CHART_HEIGHT = 100
/** Height of the marker drawn for an execution without a duration (queued, running, missed…). */
export const NO_DURATION_HEIGHT = 4
const SLOT = 10
const BAR = 8

/**
 * Height of a bar for `value` on a scale whose largest value is `max`: proportional, at least 1
 * unit so a tiny non-zero value stays visible.
 */
export function barHeight (value, max) {
  if (!(max > 0) || !(value > 0)) return 0
  return Math.max(1, (value / max) * CHART_HEIGHT)
}

/**
 * A strip of single bars, right-aligned in `slots` slots (newest at the right).
 * `bars`: `[{ value | null, status, label, href? }]`, oldest first; a null value draws a short
 * marker. Returns `{ chart, caption }`: the SVG and the line its focused/hovered bar is described in.
 */
export function barStrip (bars, { slots = bars.length, label, caption: captionText = '' }) {
  const width = Math.max(slots, bars.length) * SLOT
  const max = Math.max(0, ...bars.map((bar) => bar.value ?? 0))
  const offset = width - bars.length * SLOT
  const items = bars.map((bar, index) => {
    const height = bar.value === null || bar.value === undefined ? NO_DURATION_HEIGHT : barHeight(bar.value, max)
    const rect = svg('rect', {
      class: `bar status-${bar.status}${bar.value === null || bar.value === undefined ? ' no-duration' : ''}`,
      x: offset + index * SLOT + (SLOT - BAR) / 2,
      y: CHART_HEIGHT - height,
      width: BAR,
      height,
      'data-status': bar.status
    }, svg('title', {}, bar.label))
    // A transparent full-height target makes thin or short bars easy to hover.
    const target = svg('rect', { class: 'bar-target', x: offset + index * SLOT, y: 0, width: SLOT, height: CHART_HEIGHT })
    return bar.href
      ? svg('a', { href: bar.href, class: 'bar-item', 'aria-label': bar.label, tabindex: -1 }, target, rect)
      : svg('g', { class: 'bar-item', role: 'img', 'aria-label': bar.label, tabindex: -1 }, target, rect)
  })
  return chartFrame(items, bars.map((bar) => bar.label), { width, label, captionText })
}

/**
 * Stacked bars, one per slot: `columns` is `[{ label, segments: [{ value, status }] }]`, oldest
 * first; segments stack bottom-up in the given order, heights on one scale (the tallest column).
 */
export function stackedBars (columns, { label, caption: captionText = '' }) {
  const width = columns.length * SLOT
  const max = Math.max(0, ...columns.map((column) => column.segments.reduce((sum, segment) => sum + segment.value, 0)))
  const items = columns.map((column, index) => {
    let y = CHART_HEIGHT
    const rects = []
    let below = 0
    for (const segment of column.segments) {
      if (!(segment.value > 0)) continue
      // Heights from cumulative sums, so rounding never makes a column taller than its total.
      const top = CHART_HEIGHT - (below + segment.value) / max * CHART_HEIGHT
      const height = y - top
      below += segment.value
      rects.push(svg('rect', { class: `bar status-${segment.status}`, x: index * SLOT + (SLOT - BAR) / 2, y: top, width: BAR, height, 'data-status': segment.status }))
      y = top
    }
    const target = svg('rect', { class: 'bar-target', x: index * SLOT, y: 0, width: SLOT, height: CHART_HEIGHT })
    return svg('g', { class: 'bar-item', role: 'img', 'aria-label': column.label, tabindex: -1 }, svg('title', {}, column.label), target, rects)
  })
  return chartFrame(items, columns.map((column) => column.label), { width, label, captionText })
}

function chartFrame (items, labels, { width, label, captionText }) {
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${CHART_HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'group',
    'aria-label': label
  }, svg('line', { class: 'axis', x1: 0, x2: width, y1: CHART_HEIGHT, y2: CHART_HEIGHT }), items)
  const caption = h('p', { class: 'chart-caption', 'aria-live': 'polite' }, captionText)
  rovingFocus(items, labels, caption, captionText)
  return { chart, caption }
}

/** One tab stop for all `items` (the newest, last one); arrows move; hover and focus describe. */
function rovingFocus (items, labels, caption, idle) {
  if (items.length === 0) return
  items[items.length - 1].setAttribute('tabindex', '0')
  const describe = (index) => replace(caption, labels[index])
  items.forEach((item, index) => {
    item.addEventListener('mouseenter', () => describe(index))
    item.addEventListener('mouseleave', () => { if (!item.contains(document.activeElement)) replace(caption, idle) })
    item.addEventListener('focus', () => {
      for (const other of items) other.setAttribute('tabindex', other === item ? '0' : '-1')
      describe(index)
    })
    item.addEventListener('blur', () => replace(caption, idle))
    item.addEventListener('keydown', (event) => {
      const next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: items.length - 1 }[event.key]
      if (next === undefined) return
      event.preventDefault()
      items[Math.max(0, Math.min(items.length - 1, next))].focus()
    })
  })
}

/** A legend of the statuses shown: a swatch in the status colour and its label. */
export function legend (statuses, labelOf) {
  return h('ul', { class: 'chart-legend' }, statuses.map((status) => h('li', {}, h('span', { class: `swatch status-${status}`, 'aria-hidden': 'true' }), labelOf(status))))
}

/** A small horizontal bar: `value` as a fraction of `max` of its width (for tables of numbers). */
export function meter (value, max, { label, status = 'meter' } = {}) {
  const width = max > 0 && value > 0 ? Math.max(1, (value / max) * 100) : 0
  return svg('svg', { class: 'meter', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': label === undefined ? 'true' : undefined, role: label === undefined ? undefined : 'img', 'aria-label': label },
    svg('rect', { class: `meter-bar status-${status}`, x: 0, y: 0, width, height: 10 }))
}
