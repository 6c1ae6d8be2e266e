// Routing: the view and its filters live in the URL hash, so polling and reloads keep them. The
// route table itself is in app.js; views reach the router through these functions.
import { query } from './api.js'
import { show } from './dom.js'

/** The shown view and how to refresh it (the page's poll calls `refresh`). */
export const current = { view: null, refresh: null }

let router = async () => {}
/** Sets the function that shows the view the hash names (app.js). */
export function setRouter (fn) { router = fn }
export function route () { return router() }

/** `{ parts, params }` of the hash: `#/jobs/a%2Fb?x=1` → parts `['jobs', 'a/b']`, params `x=1`. */
export function parseHash () {
  const raw = location.hash.replace(/^#/, '') || '/jobs'
  const at = raw.indexOf('?')
  const path = at === -1 ? raw : raw.slice(0, at)
  const params = new URLSearchParams(at === -1 ? '' : raw.slice(at + 1))
  const parts = path.split('/').filter(Boolean).map((part) => decodeURIComponent(part))
  return { parts, params }
}

export function hashFor (path, params = {}) {
  return `#${path}${query(params)}`
}

/** Changes the filters in the hash without adding a history entry per keystroke. */
export function replaceParams (params) {
  const { parts } = parseHash()
  history.replaceState(null, '', hashFor(`/${parts.map(encodeURIComponent).join('/')}`, params))
  route()
}

/** Shows the section `viewId` (hiding the others), marks its nav link, and remembers how to refresh it. */
export function activate (viewId, refresh) {
  for (const view of document.querySelectorAll('main > section')) show(view, view.id === viewId)
  for (const link of document.querySelectorAll('header nav a')) {
    const section = link.id.replace('nav-', '')
    if (viewId.includes(section.slice(0, -1))) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  current.view = viewId
  current.refresh = refresh
}

/** Refreshes the shown view now (after an action); a failure waits for the next poll. */
export async function refreshNow () {
  if (current.refresh) {
    try { await current.refresh() } catch { /* the next poll tries again */ }
  }
}
