// The tasks registered on the server (the job form's choices and the jobs filter).
import { api, isAuthError } from './api.js'
import { $, h, replace } from './dom.js'

/** Task names, sorted; filled by `loadTasks`. */
export let tasks = []

export async function loadTasks () {
  try {
    const data = await api('GET', 'tasks')
    const list = Array.isArray(data) ? data : (data?.items ?? data?.tasks ?? [])
    tasks = list.map((task) => (typeof task === 'string' ? task : task.name)).filter(Boolean).sort()
  } catch (error) {
    if (isAuthError(error)) return
    tasks = []
  }
  const select = $('jobs-task')
  const chosen = select.value
  replace(select, h('option', { value: '' }, 'All tasks'), tasks.map((task) => h('option', { value: task }, task)))
  select.value = chosen
}
