/**
 * The node registry of `MemoryJobStore`: one entry per node, with the same liveness, pruning and
 * order (node id by code point) as `scheduler_node`. Running counts are the store's to give.
 */
import type { NodeRecord, NodeRegistration, NodeRetention } from './node-records.js'

export class MemoryNodeRegistry {
  readonly #nodes = new Map<string, { node: NodeRegistration, startedAt: Date, lastSeenAt: Date }>()

  /** Upserts `node` seen at `at` (keeping its first `startedAt`) and prunes other nodes past `retention`. */
  record (node: NodeRegistration, retention: NodeRetention, at: Date): void {
    for (const [nodeId, entry] of this.#nodes) {
      const keepMs = Math.max(retention.retentionMs, entry.node.heartbeatMs * retention.staleHeartbeats)
      if (nodeId !== node.nodeId && entry.lastSeenAt.getTime() < at.getTime() - keepMs) this.#nodes.delete(nodeId)
    }
    this.#nodes.set(node.nodeId, { node: structuredClone(node), startedAt: this.#nodes.get(node.nodeId)?.startedAt ?? at, lastSeenAt: at })
  }

  remove (nodeId: string): boolean {
    return this.#nodes.delete(nodeId)
  }

  /** The nodes seen within `staleHeartbeats` of their own intervals at `at`, with `running` counts by node id. */
  live (staleHeartbeats: number, at: Date, running: ReadonlyMap<string, number>): NodeRecord[] {
    const atMs = at.getTime()
    return [...this.#nodes.values()]
      .filter((entry) => entry.lastSeenAt.getTime() >= atMs - entry.node.heartbeatMs * staleHeartbeats)
      .sort((a, b) => (a.node.nodeId < b.node.nodeId ? -1 : a.node.nodeId > b.node.nodeId ? 1 : 0))
      .map((entry) => ({
        ...structuredClone(entry.node),
        startedAt: new Date(entry.startedAt),
        lastSeenAt: new Date(entry.lastSeenAt),
        lastSeenAgoMs: Math.max(0, atMs - entry.lastSeenAt.getTime()),
        running: running.get(entry.node.nodeId) ?? 0
      }))
  }
}
