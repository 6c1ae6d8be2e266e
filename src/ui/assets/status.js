// The status strip under the header: this node, the leader, the live nodes, running executions, next wake-up.
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
    // Polling rebuilds the list; a list the user opened stays open.
    replace($('status-nodes'), nodesElement(status.nodes ?? [], $('status-nodes').querySelector('details')?.open === true))
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

/** The live nodes: their count, opening to one line per node (host, pid, roles, tasks, running, last heartbeat). */
function nodesElement (nodes, open) {
  if (nodes.length === 0) return h('span', { class: 'muted' }, 'none registered')
  return h('details', { class: 'nodes', open },
    h('summary', {}, `${nodes.length} live`),
    h('ul', { class: 'node-list' }, nodes.map((node) => h('li', { 'data-node-id': node.nodeId },
      h('code', {}, node.nodeId), ` ${node.host} pid ${node.pid} · ${node.roles.join(', ')} · ${node.running} running · seen ${Math.round(node.lastSeenAgoMs / 1000)} s ago`,
      h('br'), h('span', { class: 'muted' }, node.tasks.length === 0 ? 'no tasks' : `tasks: ${node.tasks.join(', ')}`)))))
}
