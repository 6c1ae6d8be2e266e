/**
 * The exception texts a store writes itself on executions it ends without running them, shared by
 * every store so their rows read the same.
 */

/** Why a queued run (`runJob`) of a removed job is recorded `abandoned`. */
export const REMOVED_BEFORE_RUN = 'the job was removed before its queued run started'
/** Why a pending retry of a removed job is recorded `abandoned`. */
export const REMOVED_BEFORE_RETRY = 'the job was removed before this retry started'

/** Why a recovered attempt still queued is recorded `abandoned` when the attempt it recovers succeeds late after all. */
export const SUPERSEDED_BY_LATE_SUCCESS = 'not needed: the attempt it recovered finished successfully after all (a late outcome)'
