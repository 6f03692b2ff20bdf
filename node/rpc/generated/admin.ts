import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPeerRequest as _shardsync_v1_AddPeerRequest, AddPeerRequest__Output as _shardsync_v1_AddPeerRequest__Output } from './shardsync/v1/AddPeerRequest';
import type { AdminServiceClient as _shardsync_v1_AdminServiceClient, AdminServiceDefinition as _shardsync_v1_AdminServiceDefinition } from './shardsync/v1/AdminService';
import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from './shardsync/v1/Bucket';
import type { BucketSyncStatus as _shardsync_v1_BucketSyncStatus, BucketSyncStatus__Output as _shardsync_v1_BucketSyncStatus__Output } from './shardsync/v1/BucketSyncStatus';
import type { ListPeersRequest as _shardsync_v1_ListPeersRequest, ListPeersRequest__Output as _shardsync_v1_ListPeersRequest__Output } from './shardsync/v1/ListPeersRequest';
import type { ListPeersResponse as _shardsync_v1_ListPeersResponse, ListPeersResponse__Output as _shardsync_v1_ListPeersResponse__Output } from './shardsync/v1/ListPeersResponse';
import type { NodeInfoRequest as _shardsync_v1_NodeInfoRequest, NodeInfoRequest__Output as _shardsync_v1_NodeInfoRequest__Output } from './shardsync/v1/NodeInfoRequest';
import type { NodeInfoResponse as _shardsync_v1_NodeInfoResponse, NodeInfoResponse__Output as _shardsync_v1_NodeInfoResponse__Output } from './shardsync/v1/NodeInfoResponse';
import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from './shardsync/v1/ObjectInfo';
import type { Peer as _shardsync_v1_Peer, Peer__Output as _shardsync_v1_Peer__Output } from './shardsync/v1/Peer';
import type { PeerSyncStatus as _shardsync_v1_PeerSyncStatus, PeerSyncStatus__Output as _shardsync_v1_PeerSyncStatus__Output } from './shardsync/v1/PeerSyncStatus';
import type { RemovePeerRequest as _shardsync_v1_RemovePeerRequest, RemovePeerRequest__Output as _shardsync_v1_RemovePeerRequest__Output } from './shardsync/v1/RemovePeerRequest';
import type { RemovePeerResponse as _shardsync_v1_RemovePeerResponse, RemovePeerResponse__Output as _shardsync_v1_RemovePeerResponse__Output } from './shardsync/v1/RemovePeerResponse';
import type { ShardInfo as _shardsync_v1_ShardInfo, ShardInfo__Output as _shardsync_v1_ShardInfo__Output } from './shardsync/v1/ShardInfo';
import type { ShardSyncStatus as _shardsync_v1_ShardSyncStatus, ShardSyncStatus__Output as _shardsync_v1_ShardSyncStatus__Output } from './shardsync/v1/ShardSyncStatus';
import type { SplitShardRequest as _shardsync_v1_SplitShardRequest, SplitShardRequest__Output as _shardsync_v1_SplitShardRequest__Output } from './shardsync/v1/SplitShardRequest';
import type { SplitShardResponse as _shardsync_v1_SplitShardResponse, SplitShardResponse__Output as _shardsync_v1_SplitShardResponse__Output } from './shardsync/v1/SplitShardResponse';
import type { SyncStatusRequest as _shardsync_v1_SyncStatusRequest, SyncStatusRequest__Output as _shardsync_v1_SyncStatusRequest__Output } from './shardsync/v1/SyncStatusRequest';
import type { SyncStatusResponse as _shardsync_v1_SyncStatusResponse, SyncStatusResponse__Output as _shardsync_v1_SyncStatusResponse__Output } from './shardsync/v1/SyncStatusResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  shardsync: {
    v1: {
      AddPeerRequest: MessageTypeDefinition<_shardsync_v1_AddPeerRequest, _shardsync_v1_AddPeerRequest__Output>
      AdminService: SubtypeConstructor<typeof grpc.Client, _shardsync_v1_AdminServiceClient> & { service: _shardsync_v1_AdminServiceDefinition }
      Bucket: MessageTypeDefinition<_shardsync_v1_Bucket, _shardsync_v1_Bucket__Output>
      BucketSyncStatus: MessageTypeDefinition<_shardsync_v1_BucketSyncStatus, _shardsync_v1_BucketSyncStatus__Output>
      ListPeersRequest: MessageTypeDefinition<_shardsync_v1_ListPeersRequest, _shardsync_v1_ListPeersRequest__Output>
      ListPeersResponse: MessageTypeDefinition<_shardsync_v1_ListPeersResponse, _shardsync_v1_ListPeersResponse__Output>
      NodeInfoRequest: MessageTypeDefinition<_shardsync_v1_NodeInfoRequest, _shardsync_v1_NodeInfoRequest__Output>
      NodeInfoResponse: MessageTypeDefinition<_shardsync_v1_NodeInfoResponse, _shardsync_v1_NodeInfoResponse__Output>
      ObjectInfo: MessageTypeDefinition<_shardsync_v1_ObjectInfo, _shardsync_v1_ObjectInfo__Output>
      Peer: MessageTypeDefinition<_shardsync_v1_Peer, _shardsync_v1_Peer__Output>
      PeerSyncStatus: MessageTypeDefinition<_shardsync_v1_PeerSyncStatus, _shardsync_v1_PeerSyncStatus__Output>
      RemovePeerRequest: MessageTypeDefinition<_shardsync_v1_RemovePeerRequest, _shardsync_v1_RemovePeerRequest__Output>
      RemovePeerResponse: MessageTypeDefinition<_shardsync_v1_RemovePeerResponse, _shardsync_v1_RemovePeerResponse__Output>
      ShardInfo: MessageTypeDefinition<_shardsync_v1_ShardInfo, _shardsync_v1_ShardInfo__Output>
      ShardSyncStatus: MessageTypeDefinition<_shardsync_v1_ShardSyncStatus, _shardsync_v1_ShardSyncStatus__Output>
      SplitShardRequest: MessageTypeDefinition<_shardsync_v1_SplitShardRequest, _shardsync_v1_SplitShardRequest__Output>
      SplitShardResponse: MessageTypeDefinition<_shardsync_v1_SplitShardResponse, _shardsync_v1_SplitShardResponse__Output>
      SplitState: EnumTypeDefinition
      SyncStatusRequest: MessageTypeDefinition<_shardsync_v1_SyncStatusRequest, _shardsync_v1_SyncStatusRequest__Output>
      SyncStatusResponse: MessageTypeDefinition<_shardsync_v1_SyncStatusResponse, _shardsync_v1_SyncStatusResponse__Output>
    }
  }
}

