/**
 * `GET /metrics` (with `METRICS=1`): the Prometheus text of a `prom-client` registry that holds the
 * scheduler's metrics (`metrics: { registry }` on the plugin) next to Node's default process
 * metrics. With `WORKERS=N` each worker answers with its own registry; prom-client's
 * `AggregatorRegistry` merges them if you need one answer for the cluster.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'

export const metricsRoute: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}
