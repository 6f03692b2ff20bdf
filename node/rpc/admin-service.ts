/**
 * AdminService handlers: thin adapters over ShardsyncNode's operator API.
 */
import type { Logger } from 'pino'
import type { ShardsyncNode } from '../shardsync-node'
import type { AdminServiceHandlers } from './generated/shardsync/v1/AdminService'
import { unary } from './handler-kit'
import { bucketMessage } from './messages'

export function adminServiceHandlers (node: ShardsyncNode, log: Logger): AdminServiceHandlers {
  return {
    NodeInfo: unary(log, 'NodeInfo', () => {
      const info = node.nodeInfo()
      return { siteId: info.siteId, version: info.version, syncMode: info.syncMode, buckets: info.buckets.map(bucketMessage) }
    }),
    SplitShard: unary(log, 'SplitShard', async (req) => await node.splitShard(req.bucket, req.shard)),
    AddPeer: unary(log, 'AddPeer', async (req) => await node.addPeer(req.id, req.address)),
    RemovePeer: unary(log, 'RemovePeer', async (req) => { await node.removePeer(req.id); return {} }),
    ListPeers: unary(log, 'ListPeers', () => ({ peers: node.listPeers() }))
  }
}
