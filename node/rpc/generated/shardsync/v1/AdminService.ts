// Original file: proto/shardsync/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddPeerRequest as _shardsync_v1_AddPeerRequest, AddPeerRequest__Output as _shardsync_v1_AddPeerRequest__Output } from '../../shardsync/v1/AddPeerRequest';
import type { ListPeersRequest as _shardsync_v1_ListPeersRequest, ListPeersRequest__Output as _shardsync_v1_ListPeersRequest__Output } from '../../shardsync/v1/ListPeersRequest';
import type { ListPeersResponse as _shardsync_v1_ListPeersResponse, ListPeersResponse__Output as _shardsync_v1_ListPeersResponse__Output } from '../../shardsync/v1/ListPeersResponse';
import type { NodeInfoRequest as _shardsync_v1_NodeInfoRequest, NodeInfoRequest__Output as _shardsync_v1_NodeInfoRequest__Output } from '../../shardsync/v1/NodeInfoRequest';
import type { NodeInfoResponse as _shardsync_v1_NodeInfoResponse, NodeInfoResponse__Output as _shardsync_v1_NodeInfoResponse__Output } from '../../shardsync/v1/NodeInfoResponse';
import type { Peer as _shardsync_v1_Peer, Peer__Output as _shardsync_v1_Peer__Output } from '../../shardsync/v1/Peer';
import type { RemovePeerRequest as _shardsync_v1_RemovePeerRequest, RemovePeerRequest__Output as _shardsync_v1_RemovePeerRequest__Output } from '../../shardsync/v1/RemovePeerRequest';
import type { RemovePeerResponse as _shardsync_v1_RemovePeerResponse, RemovePeerResponse__Output as _shardsync_v1_RemovePeerResponse__Output } from '../../shardsync/v1/RemovePeerResponse';
import type { SplitShardRequest as _shardsync_v1_SplitShardRequest, SplitShardRequest__Output as _shardsync_v1_SplitShardRequest__Output } from '../../shardsync/v1/SplitShardRequest';
import type { SplitShardResponse as _shardsync_v1_SplitShardResponse, SplitShardResponse__Output as _shardsync_v1_SplitShardResponse__Output } from '../../shardsync/v1/SplitShardResponse';
import type { SyncStatusRequest as _shardsync_v1_SyncStatusRequest, SyncStatusRequest__Output as _shardsync_v1_SyncStatusRequest__Output } from '../../shardsync/v1/SyncStatusRequest';
import type { SyncStatusResponse as _shardsync_v1_SyncStatusResponse, SyncStatusResponse__Output as _shardsync_v1_SyncStatusResponse__Output } from '../../shardsync/v1/SyncStatusResponse';

export interface AdminServiceClient extends grpc.Client {
  AddPeer(argument: _shardsync_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _shardsync_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _shardsync_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _shardsync_v1_AddPeerRequest, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _shardsync_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _shardsync_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _shardsync_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _shardsync_v1_AddPeerRequest, callback: grpc.requestCallback<_shardsync_v1_Peer__Output>): grpc.ClientUnaryCall;
  
  ListPeers(argument: _shardsync_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _shardsync_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _shardsync_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _shardsync_v1_ListPeersRequest, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _shardsync_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _shardsync_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _shardsync_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _shardsync_v1_ListPeersRequest, callback: grpc.requestCallback<_shardsync_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  
  NodeInfo(argument: _shardsync_v1_NodeInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  NodeInfo(argument: _shardsync_v1_NodeInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  NodeInfo(argument: _shardsync_v1_NodeInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  NodeInfo(argument: _shardsync_v1_NodeInfoRequest, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  nodeInfo(argument: _shardsync_v1_NodeInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  nodeInfo(argument: _shardsync_v1_NodeInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  nodeInfo(argument: _shardsync_v1_NodeInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  nodeInfo(argument: _shardsync_v1_NodeInfoRequest, callback: grpc.requestCallback<_shardsync_v1_NodeInfoResponse__Output>): grpc.ClientUnaryCall;
  
  RemovePeer(argument: _shardsync_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _shardsync_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _shardsync_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _shardsync_v1_RemovePeerRequest, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _shardsync_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _shardsync_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _shardsync_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _shardsync_v1_RemovePeerRequest, callback: grpc.requestCallback<_shardsync_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  
  SplitShard(argument: _shardsync_v1_SplitShardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  SplitShard(argument: _shardsync_v1_SplitShardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  SplitShard(argument: _shardsync_v1_SplitShardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  SplitShard(argument: _shardsync_v1_SplitShardRequest, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  splitShard(argument: _shardsync_v1_SplitShardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  splitShard(argument: _shardsync_v1_SplitShardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  splitShard(argument: _shardsync_v1_SplitShardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  splitShard(argument: _shardsync_v1_SplitShardRequest, callback: grpc.requestCallback<_shardsync_v1_SplitShardResponse__Output>): grpc.ClientUnaryCall;
  
  SyncStatus(argument: _shardsync_v1_SyncStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  SyncStatus(argument: _shardsync_v1_SyncStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  SyncStatus(argument: _shardsync_v1_SyncStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  SyncStatus(argument: _shardsync_v1_SyncStatusRequest, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  syncStatus(argument: _shardsync_v1_SyncStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  syncStatus(argument: _shardsync_v1_SyncStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  syncStatus(argument: _shardsync_v1_SyncStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  syncStatus(argument: _shardsync_v1_SyncStatusRequest, callback: grpc.requestCallback<_shardsync_v1_SyncStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminServiceHandlers extends grpc.UntypedServiceImplementation {
  AddPeer: grpc.handleUnaryCall<_shardsync_v1_AddPeerRequest__Output, _shardsync_v1_Peer>;
  
  ListPeers: grpc.handleUnaryCall<_shardsync_v1_ListPeersRequest__Output, _shardsync_v1_ListPeersResponse>;
  
  NodeInfo: grpc.handleUnaryCall<_shardsync_v1_NodeInfoRequest__Output, _shardsync_v1_NodeInfoResponse>;
  
  RemovePeer: grpc.handleUnaryCall<_shardsync_v1_RemovePeerRequest__Output, _shardsync_v1_RemovePeerResponse>;
  
  SplitShard: grpc.handleUnaryCall<_shardsync_v1_SplitShardRequest__Output, _shardsync_v1_SplitShardResponse>;
  
  SyncStatus: grpc.handleUnaryCall<_shardsync_v1_SyncStatusRequest__Output, _shardsync_v1_SyncStatusResponse>;
  
}

export interface AdminServiceDefinition extends grpc.ServiceDefinition {
  AddPeer: MethodDefinition<_shardsync_v1_AddPeerRequest, _shardsync_v1_Peer, _shardsync_v1_AddPeerRequest__Output, _shardsync_v1_Peer__Output>
  ListPeers: MethodDefinition<_shardsync_v1_ListPeersRequest, _shardsync_v1_ListPeersResponse, _shardsync_v1_ListPeersRequest__Output, _shardsync_v1_ListPeersResponse__Output>
  NodeInfo: MethodDefinition<_shardsync_v1_NodeInfoRequest, _shardsync_v1_NodeInfoResponse, _shardsync_v1_NodeInfoRequest__Output, _shardsync_v1_NodeInfoResponse__Output>
  RemovePeer: MethodDefinition<_shardsync_v1_RemovePeerRequest, _shardsync_v1_RemovePeerResponse, _shardsync_v1_RemovePeerRequest__Output, _shardsync_v1_RemovePeerResponse__Output>
  SplitShard: MethodDefinition<_shardsync_v1_SplitShardRequest, _shardsync_v1_SplitShardResponse, _shardsync_v1_SplitShardRequest__Output, _shardsync_v1_SplitShardResponse__Output>
  SyncStatus: MethodDefinition<_shardsync_v1_SyncStatusRequest, _shardsync_v1_SyncStatusResponse, _shardsync_v1_SyncStatusRequest__Output, _shardsync_v1_SyncStatusResponse__Output>
}
