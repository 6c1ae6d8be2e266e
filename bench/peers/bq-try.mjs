import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
const q = new Queue('t', { connection: new Redis({ maxRetriesPerRequest: null }), prefix: 'fmsbench-try' })
for (const n of [1, 100, 1000]) {
  const t = performance.now()
  await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'x', data: { i }, opts: { delay: 60000 } })))
  console.log(n, (performance.now() - t).toFixed(0), 'ms')
}
const t = performance.now()
await q.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'x', data: { i } })))
console.log('1000 undelayed', (performance.now() - t).toFixed(0), 'ms')
await q.obliterate({ force: true }); await q.close()
