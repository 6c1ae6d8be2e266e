/**
 * Runs this project's scenarios, each in a fresh node process on its own fresh database. The
 * history row fills one database with the execution history once (`historyFill`) and gives each
 * repeat a file copy of it.
 */
import { fileURLToPath } from 'node:url'
import { runChild } from '../child-process.mjs'
import { createTemplate, withDatabase } from '../database.mjs'
import { POOL, SCHEDULER_OPTIONS } from './harness.mjs'
import { WORKER_OPTIONS } from './scale-out.mjs'

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url))
const TIMEOUT_MS = 1_800_000

export const description = `maxConcurrency ${SCHEDULER_OPTIONS.maxConcurrency}, batchSize ${SCHEDULER_OPTIONS.batchSize}, ` +
  `MikroORM pool max ${POOL.max}, other options default (pollIntervalMs 5000, leaseMs 30000); execution logging on; ` +
  `scale-out and isolation: one such process per worker but maxConcurrency ${WORKER_OPTIONS.maxConcurrency} (the library default), ` +
  'the first worker leads, jobs are added by a process with execute: false, plan: false'

const runScenario = (scenario, url, sizes) => runChild(process.execPath, [CHILD, scenario, url, JSON.stringify(sizes)], TIMEOUT_MS)

/** { run(sizes) → result, close() } for one row of this project. */
export async function prepareOurs (row, sizes) {
  if (row !== 'history') {
    return {
      run: (s) => withDatabase(`fms_${row}`, async (url) => {
        if (row === 'stored') await runScenario('storedFill', url, s)
        return runScenario(row, url, s)
      }),
      close: async () => {}
    }
  }
  const template = await createTemplate('fms_history')
  try {
    const fill = await runScenario('historyFill', template.url, sizes)
    process.stderr.write(`bench: history: ${fill.rows} execution rows (${fill.size}) stored in ${fill.fillSeconds.toFixed(1)} s\n`)
    return {
      fill,
      run: (s) => withDatabase('fms_history', (url) => runScenario('history', url, s), { template: template.name }),
      close: template.drop
    }
  } catch (error) {
    await template.drop()
    throw error
  }
}
