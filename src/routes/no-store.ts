/**
 * Responses of the admin API are not cached: they hold job arguments, tracebacks and who leads
 * the cluster, which a shared proxy or the browser's disk cache must not keep (RFC 9111 §5.2.2.5
 * `no-store`). Every response of the API gets `cache-control: no-store`, errors and the guard's
 * 401/403 included; the admin page's shell and assets keep their own `no-cache` with an ETag.
 */
import type { onSendHookHandler } from 'fastify'

/** The `onSend` hook setting `cache-control: no-store`. */
export const noStore: onSendHookHandler = async (_request, reply, payload) => {
  void reply.header('cache-control', 'no-store')
  return payload
}
