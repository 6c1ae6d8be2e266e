// The status strip under the header: this node, the leader, running executions, next wake-up.
import { api, isAuthError, token } from './api.js'
import { $, h, replace, show } from './dom.js'
import { timeElement } from './format.js'
import { errorText } from './notice.js'
import { hashFor } from './router.js'

export async function refreshStatus () {
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
    if (isAuthError(error)) return
    replace($('status-error'), `Status unavailable: ${errorText(error)}`)
    show($('status-error'), true)
  }
}
