// Paging of the jobs and executions lists.
import { h, replace } from './dom.js'

/** Items per list page. */
export const PAGE_SIZE = 25

/** Fills `container` with "1–25 of 80" and Newer/Older buttons that call `go(offset)`. */
export function pager (container, total, offset, go) {
  const end = Math.min(offset + PAGE_SIZE, total)
  replace(container,
    h('span', {}, total === 0 ? '' : `${offset + 1}–${end} of ${total}`),
    offset > 0 ? h('button', { type: 'button', onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }, '← Newer') : null,
    end < total ? h('button', { type: 'button', onclick: () => go(offset + PAGE_SIZE) }, 'Older →') : null)
}
