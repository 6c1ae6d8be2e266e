/**
 * The JobStore contract against `MemoryJobStore`, with a clock the tests move by hand
 * (set before 2030, so the suite's explicit 2030 times are all in the store's future).
 */
import t from 'tap'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'
import { FakeClock } from '../helpers/clock.js'
import { jobStoreContract } from './contract.js'
import { executionStatsContract } from './execution-stats-contract.js'
import { auditContract } from './audit-contract.js'
import { nodeRegistryContract } from './node-registry-contract.js'
import { retryContract } from './retry-contract.js'
import { queuedRunsContract } from './queued-runs-contract.js'
import { claimAheadContract } from './claim-ahead-contract.js'

jobStoreContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

executionStatsContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

nodeRegistryContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

auditContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

retryContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

queuedRunsContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})

claimAheadContract(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})
