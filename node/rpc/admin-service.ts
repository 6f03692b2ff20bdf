/**
 * AdminService handlers: thin adapters over ShardsyncNode's operator API.
 */
import type { ShardsyncNode } from '../shardsync-node'
import type { AdminServiceHandlers } from './generated/shardsync/v1/AdminService'
import { buildSyncStatus } from '../sync-status'
import { unary, type RpcContext } from './handler-kit'
import { bucketMessage } from './messages'

export function adminServiceHandlers (node: ShardsyncNode, ctx: RpcContext): AdminServiceHandlers {
  return {
    NodeInfo: unary(ctx, 'NodeInfo', () => {
      const info = node.nodeInfo()
      return { siteId: info.siteId, version: info.version, syncMode: info.syncMode, buckets: info.buckets.map(bucketMessage) }
    }),
    SplitShard: unary(ctx, 'SplitShard', async (req) => await node.splitShard(req.bucket, req.shard)),
    AddPeer: unary(ctx, 'AddPeer', async (req) => await node.addPeer(req.id, req.address)),
    RemovePeer: unary(ctx, 'RemovePeer', async (req) => { await node.removePeer(req.id); return {} }),
    ListPeers: unary(ctx, 'ListPeers', () => ({ peers: node.listPeers() })),
    SyncStatus: unary(ctx, 'SyncStatus', async (req) => await buildSyncStatus(node, { peer: req.peer, summaryOnly: req.summaryOnly }))
  }
}
