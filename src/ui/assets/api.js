// Client of the admin REST routes served under the same prefix as the page. The token typed in the
// sign-in form is kept in sessionStorage (this tab only) and sent as `Authorization: Bearer`.

const TOKEN_KEY = 'fastify-mikro-scheduler:token'
const base = new URL('.', location.href)

export class ApiError extends Error {
  constructor (status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.body = body ?? {}
  }
}

/** True for the answers of the guard (the page then shows its sign-in form). */
export function isAuthError (error) {
  return error instanceof ApiError && (error.status === 401 || error.status === 403)
}

export function token () { return sessionStorage.getItem(TOKEN_KEY) }
export function saveToken (value) { sessionStorage.setItem(TOKEN_KEY, value) }
export function forgetToken () { sessionStorage.removeItem(TOKEN_KEY) }

let unauthorized = () => {}
/** Called with a message when the API answers 401/403 (set once by the sign-in view). */
export function onUnauthorized (handler) { unauthorized = handler }

/** `method path [body]` against the API; resolves to the parsed JSON, rejects with an ApiError. */
export async function api (method, path, body) {
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
    unauthorized(saved ? 'The token was refused; check it and sign in again.' : '')
    throw new ApiError(response.status, data)
  }
  if (!response.ok) throw new ApiError(response.status, data)
  return data
}

/** `?a=1&b=2` from the defined, non-empty values of `params` ('' when none). */
export function query (params) {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

/** The items of a list answer (`{ items }`, or a bare array). */
export function itemsOf (page) {
  return Array.isArray(page) ? page : (page?.items ?? [])
}
