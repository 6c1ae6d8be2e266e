/**
 * The JobStore contract against `MemoryJobStore`, with a clock the tests move by hand
 * (set before 2030, so the suite's explicit 2030 times are all in the store's future).
 */
import t from 'tap'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'
import { FakeClock } from '../helpers/clock.js'
import { allStoreContracts } from './all-parts-contract.js'

allStoreContracts(t, async () => {
  const clock = new FakeClock('2029-06-01T00:00:00Z')
  return { store: new MemoryJobStore({ clock: clock.now }), clock }
})
