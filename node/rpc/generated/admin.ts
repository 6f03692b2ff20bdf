import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPeerRequest as _shardsync_v1_AddPeerRequest, AddPeerRequest__Output as _shardsync_v1_AddPeerRequest__Output } from './shardsync/v1/AddPeerRequest';
import type { AdminServiceClient as _shardsync_v1_AdminServiceClient, AdminServiceDefinition as _shardsync_v1_AdminServiceDefinition } from './shardsync/v1/AdminService';
import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from './shardsync/v1/Bucket';
import type { ListPeersRequest as _shardsync_v1_ListPeersRequest, ListPeersRequest__Output as _shardsync_v1_ListPeersRequest__Output } from './shardsync/v1/ListPeersRequest';
import type { ListPeersResponse as _shardsync_v1_ListPeersResponse, ListPeersResponse__Output as _shardsync_v1_ListPeersResponse__Output } from './shardsync/v1/ListPeersResponse';
import type { NodeInfoRequest as _shardsync_v1_NodeInfoRequest, NodeInfoRequest__Output as _shardsync_v1_NodeInfoRequest__Output } from './shardsync/v1/NodeInfoRequest';
import type { NodeInfoResponse as _shardsync_v1_NodeInfoResponse, NodeInfoResponse__Output as _shardsync_v1_NodeInfoResponse__Output } from './shardsync/v1/NodeInfoResponse';
import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from './shardsync/v1/ObjectInfo';
import type { Peer as _shardsync_v1_Peer, Peer__Output as _shardsync_v1_Peer__Output } from './shardsync/v1/Peer';
import type { RemovePeerRequest as _shardsync_v1_RemovePeerRequest, RemovePeerRequest__Output as _shardsync_v1_RemovePeerRequest__Output } from './shardsync/v1/RemovePeerRequest';
import type { RemovePeerResponse as _shardsync_v1_RemovePeerResponse, RemovePeerResponse__Output as _shardsync_v1_RemovePeerResponse__Output } from './shardsync/v1/RemovePeerResponse';
import type { ShardInfo as _shardsync_v1_ShardInfo, ShardInfo__Output as _shardsync_v1_ShardInfo__Output } from './shardsync/v1/ShardInfo';
import type { SplitShardRequest as _shardsync_v1_SplitShardRequest, SplitShardRequest__Output as _shardsync_v1_SplitShardRequest__Output } from './shardsync/v1/SplitShardRequest';
import type { SplitShardResponse as _shardsync_v1_SplitShardResponse, SplitShardResponse__Output as _shardsync_v1_SplitShardResponse__Output } from './shardsync/v1/SplitShardResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  shardsync: {
    v1: {
      AddPeerRequest: MessageTypeDefinition<_shardsync_v1_AddPeerRequest, _shardsync_v1_AddPeerRequest__Output>
      AdminService: SubtypeConstructor<typeof grpc.Client, _shardsync_v1_AdminServiceClient> & { service: _shardsync_v1_AdminServiceDefinition }
      Bucket: MessageTypeDefinition<_shardsync_v1_Bucket, _shardsync_v1_Bucket__Output>
      ListPeersRequest: MessageTypeDefinition<_shardsync_v1_ListPeersRequest, _shardsync_v1_ListPeersRequest__Output>
      ListPeersResponse: MessageTypeDefinition<_shardsync_v1_ListPeersResponse, _shardsync_v1_ListPeersResponse__Output>
      NodeInfoRequest: MessageTypeDefinition<_shardsync_v1_NodeInfoRequest, _shardsync_v1_NodeInfoRequest__Output>
      NodeInfoResponse: MessageTypeDefinition<_shardsync_v1_NodeInfoResponse, _shardsync_v1_NodeInfoResponse__Output>
      ObjectInfo: MessageTypeDefinition<_shardsync_v1_ObjectInfo, _shardsync_v1_ObjectInfo__Output>
      Peer: MessageTypeDefinition<_shardsync_v1_Peer, _shardsync_v1_Peer__Output>
      RemovePeerRequest: MessageTypeDefinition<_shardsync_v1_RemovePeerRequest, _shardsync_v1_RemovePeerRequest__Output>
      RemovePeerResponse: MessageTypeDefinition<_shardsync_v1_RemovePeerResponse, _shardsync_v1_RemovePeerResponse__Output>
      ShardInfo: MessageTypeDefinition<_shardsync_v1_ShardInfo, _shardsync_v1_ShardInfo__Output>
      SplitShardRequest: MessageTypeDefinition<_shardsync_v1_SplitShardRequest, _shardsync_v1_SplitShardRequest__Output>
      SplitShardResponse: MessageTypeDefinition<_shardsync_v1_SplitShardResponse, _shardsync_v1_SplitShardResponse__Output>
      SplitState: EnumTypeDefinition
    }
  }
}

