/**
 * The wake-up notifications between scheduler processes (PostgreSQL `NOTIFY`, DESIGN.md "Scheduling
 * protocol"): one channel, placed in the store's schema by `placedSqlClient`, whose payload says
 * what changed. A job write notifies with the writer's node id (the leader re-reads the next due
 * time); a statement that queues runs notifies with {@link QUEUED_PAYLOAD} (idle workers start them).
 */

/** The NOTIFY channel writers use to wake other processes' schedulers. */
export const WAKEUP_CHANNEL = 'scheduler_wakeup'

/** The payload of a notification sent when runs were queued for workers (any other payload is a job change). */
export const QUEUED_PAYLOAD = 'queued runs'
