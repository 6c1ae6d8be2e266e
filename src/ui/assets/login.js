// Sign-in view: shown when the API answers 401/403. The token is kept in this tab only.
import { forgetToken, onUnauthorized, saveToken } from './api.js'
import { $, replace, show } from './dom.js'

let routeAfterSignIn = null

function signedOut (message) {
  forgetToken()
  show($('sign-out'), false)
  if (!$('view-login').hidden) return
  routeAfterSignIn = location.hash
  for (const view of document.querySelectorAll('main > section')) show(view, view.id === 'view-login')
  replace($('login-token-error'), message)
  $('login-token').value = ''
  $('login-token').focus()
}

/** True while the sign-in form is shown (nothing else loads meanwhile). */
export function signingIn () { return !$('view-login').hidden }

/**
 * Wires the sign-in form and the sign-out button. `afterSignIn(hash)` reloads the page's data and
 * shows the view that asked for credentials (`hash`, or null to route the current one).
 */
export function initLogin (afterSignIn) {
  onUnauthorized(signedOut)
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const value = $('login-token').value.trim()
    if (value === '') { replace($('login-token-error'), 'Enter the admin token.'); return }
    saveToken(value)
    show($('view-login'), false)
    show($('sign-out'), true)
    replace($('login-token-error'), '')
    $('login-token').value = ''
    await afterSignIn(routeAfterSignIn && routeAfterSignIn !== location.hash ? routeAfterSignIn : null)
  })
  $('sign-out').addEventListener('click', () => {
    forgetToken()
    show($('sign-out'), false)
    signedOut('Signed out.')
  })
}
