// The notice box under the status strip (run now, actions, load errors).
import { ApiError } from './api.js'
import { $, replace, show } from './dom.js'

let noticeTimer = null

/** Shows `children` in the notice box; it hides itself after 8 s unless `sticky`. Returns the box. */
export function notice (children, { sticky = false, kind = 'info' } = {}) {
  const box = $('notice')
  clearTimeout(noticeTimer)
  box.className = `notice ${kind}`
  replace(box, children)
  show(box, true)
  if (!sticky) noticeTimer = setTimeout(() => show(box, false), 8000)
  return box
}

/** An error as people read it: the server's message and code, or the error's message. */
export function errorText (error) {
  if (error instanceof ApiError) return `${error.body.message ?? error.message}${error.body.code ? ` (${error.body.code})` : ''}`
  return error?.message ?? String(error)
}
