// Original file: proto/shardsync/v1/sync.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { FetchObjectsRequest as _shardsync_v1_FetchObjectsRequest, FetchObjectsRequest__Output as _shardsync_v1_FetchObjectsRequest__Output } from '../../shardsync/v1/FetchObjectsRequest';
import type { FetchObjectsResponse as _shardsync_v1_FetchObjectsResponse, FetchObjectsResponse__Output as _shardsync_v1_FetchObjectsResponse__Output } from '../../shardsync/v1/FetchObjectsResponse';
import type { GetObjectRequest as _shardsync_v1_GetObjectRequest, GetObjectRequest__Output as _shardsync_v1_GetObjectRequest__Output } from '../../shardsync/v1/GetObjectRequest';
import type { GetObjectResponse as _shardsync_v1_GetObjectResponse, GetObjectResponse__Output as _shardsync_v1_GetObjectResponse__Output } from '../../shardsync/v1/GetObjectResponse';
import type { ListIndexRequest as _shardsync_v1_ListIndexRequest, ListIndexRequest__Output as _shardsync_v1_ListIndexRequest__Output } from '../../shardsync/v1/ListIndexRequest';
import type { ListIndexResponse as _shardsync_v1_ListIndexResponse, ListIndexResponse__Output as _shardsync_v1_ListIndexResponse__Output } from '../../shardsync/v1/ListIndexResponse';
import type { ListShardsRequest as _shardsync_v1_ListShardsRequest, ListShardsRequest__Output as _shardsync_v1_ListShardsRequest__Output } from '../../shardsync/v1/ListShardsRequest';
import type { ListShardsResponse as _shardsync_v1_ListShardsResponse, ListShardsResponse__Output as _shardsync_v1_ListShardsResponse__Output } from '../../shardsync/v1/ListShardsResponse';
import type { NotifyReshardCompleteRequest as _shardsync_v1_NotifyReshardCompleteRequest, NotifyReshardCompleteRequest__Output as _shardsync_v1_NotifyReshardCompleteRequest__Output } from '../../shardsync/v1/NotifyReshardCompleteRequest';
import type { NotifyReshardCompleteResponse as _shardsync_v1_NotifyReshardCompleteResponse, NotifyReshardCompleteResponse__Output as _shardsync_v1_NotifyReshardCompleteResponse__Output } from '../../shardsync/v1/NotifyReshardCompleteResponse';
import type { PullChangesRequest as _shardsync_v1_PullChangesRequest, PullChangesRequest__Output as _shardsync_v1_PullChangesRequest__Output } from '../../shardsync/v1/PullChangesRequest';
import type { PullChangesResponse as _shardsync_v1_PullChangesResponse, PullChangesResponse__Output as _shardsync_v1_PullChangesResponse__Output } from '../../shardsync/v1/PullChangesResponse';
import type { QuerySplitStateRequest as _shardsync_v1_QuerySplitStateRequest, QuerySplitStateRequest__Output as _shardsync_v1_QuerySplitStateRequest__Output } from '../../shardsync/v1/QuerySplitStateRequest';
import type { QuerySplitStateResponse as _shardsync_v1_QuerySplitStateResponse, QuerySplitStateResponse__Output as _shardsync_v1_QuerySplitStateResponse__Output } from '../../shardsync/v1/QuerySplitStateResponse';
import type { ReportPositionsRequest as _shardsync_v1_ReportPositionsRequest, ReportPositionsRequest__Output as _shardsync_v1_ReportPositionsRequest__Output } from '../../shardsync/v1/ReportPositionsRequest';
import type { ReportPositionsResponse as _shardsync_v1_ReportPositionsResponse, ReportPositionsResponse__Output as _shardsync_v1_ReportPositionsResponse__Output } from '../../shardsync/v1/ReportPositionsResponse';
import type { StreamShardRequest as _shardsync_v1_StreamShardRequest, StreamShardRequest__Output as _shardsync_v1_StreamShardRequest__Output } from '../../shardsync/v1/StreamShardRequest';
import type { StreamShardResponse as _shardsync_v1_StreamShardResponse, StreamShardResponse__Output as _shardsync_v1_StreamShardResponse__Output } from '../../shardsync/v1/StreamShardResponse';

export interface SyncServiceClient extends grpc.Client {
  FetchObjects(argument: _shardsync_v1_FetchObjectsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_FetchObjectsResponse__Output>;
  FetchObjects(argument: _shardsync_v1_FetchObjectsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_FetchObjectsResponse__Output>;
  fetchObjects(argument: _shardsync_v1_FetchObjectsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_FetchObjectsResponse__Output>;
  fetchObjects(argument: _shardsync_v1_FetchObjectsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_FetchObjectsResponse__Output>;
  
  GetObject(argument: _shardsync_v1_GetObjectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  GetObject(argument: _shardsync_v1_GetObjectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  getObject(argument: _shardsync_v1_GetObjectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  getObject(argument: _shardsync_v1_GetObjectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  
  ListIndex(argument: _shardsync_v1_ListIndexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  ListIndex(argument: _shardsync_v1_ListIndexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  ListIndex(argument: _shardsync_v1_ListIndexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  ListIndex(argument: _shardsync_v1_ListIndexRequest, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  listIndex(argument: _shardsync_v1_ListIndexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  listIndex(argument: _shardsync_v1_ListIndexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  listIndex(argument: _shardsync_v1_ListIndexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  listIndex(argument: _shardsync_v1_ListIndexRequest, callback: grpc.requestCallback<_shardsync_v1_ListIndexResponse__Output>): grpc.ClientUnaryCall;
  
  ListShards(argument: _shardsync_v1_ListShardsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  ListShards(argument: _shardsync_v1_ListShardsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  ListShards(argument: _shardsync_v1_ListShardsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  ListShards(argument: _shardsync_v1_ListShardsRequest, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  listShards(argument: _shardsync_v1_ListShardsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  listShards(argument: _shardsync_v1_ListShardsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  listShards(argument: _shardsync_v1_ListShardsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  listShards(argument: _shardsync_v1_ListShardsRequest, callback: grpc.requestCallback<_shardsync_v1_ListShardsResponse__Output>): grpc.ClientUnaryCall;
  
  NotifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  NotifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  NotifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  NotifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  notifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  notifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  notifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  notifyReshardComplete(argument: _shardsync_v1_NotifyReshardCompleteRequest, callback: grpc.requestCallback<_shardsync_v1_NotifyReshardCompleteResponse__Output>): grpc.ClientUnaryCall;
  
  PullChanges(argument: _shardsync_v1_PullChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  PullChanges(argument: _shardsync_v1_PullChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  PullChanges(argument: _shardsync_v1_PullChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  PullChanges(argument: _shardsync_v1_PullChangesRequest, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  pullChanges(argument: _shardsync_v1_PullChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  pullChanges(argument: _shardsync_v1_PullChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  pullChanges(argument: _shardsync_v1_PullChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  pullChanges(argument: _shardsync_v1_PullChangesRequest, callback: grpc.requestCallback<_shardsync_v1_PullChangesResponse__Output>): grpc.ClientUnaryCall;
  
  QuerySplitState(argument: _shardsync_v1_QuerySplitStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  QuerySplitState(argument: _shardsync_v1_QuerySplitStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  QuerySplitState(argument: _shardsync_v1_QuerySplitStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  QuerySplitState(argument: _shardsync_v1_QuerySplitStateRequest, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  querySplitState(argument: _shardsync_v1_QuerySplitStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  querySplitState(argument: _shardsync_v1_QuerySplitStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  querySplitState(argument: _shardsync_v1_QuerySplitStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  querySplitState(argument: _shardsync_v1_QuerySplitStateRequest, callback: grpc.requestCallback<_shardsync_v1_QuerySplitStateResponse__Output>): grpc.ClientUnaryCall;
  
  ReportPositions(argument: _shardsync_v1_ReportPositionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPositions(argument: _shardsync_v1_ReportPositionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPositions(argument: _shardsync_v1_ReportPositionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPositions(argument: _shardsync_v1_ReportPositionsRequest, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  reportPositions(argument: _shardsync_v1_ReportPositionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  reportPositions(argument: _shardsync_v1_ReportPositionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  reportPositions(argument: _shardsync_v1_ReportPositionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  reportPositions(argument: _shardsync_v1_ReportPositionsRequest, callback: grpc.requestCallback<_shardsync_v1_ReportPositionsResponse__Output>): grpc.ClientUnaryCall;
  
  StreamShard(argument: _shardsync_v1_StreamShardRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_StreamShardResponse__Output>;
  StreamShard(argument: _shardsync_v1_StreamShardRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_StreamShardResponse__Output>;
  streamShard(argument: _shardsync_v1_StreamShardRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_StreamShardResponse__Output>;
  streamShard(argument: _shardsync_v1_StreamShardRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_StreamShardResponse__Output>;
  
}

export interface SyncServiceHandlers extends grpc.UntypedServiceImplementation {
  FetchObjects: grpc.handleServerStreamingCall<_shardsync_v1_FetchObjectsRequest__Output, _shardsync_v1_FetchObjectsResponse>;
  
  GetObject: grpc.handleServerStreamingCall<_shardsync_v1_GetObjectRequest__Output, _shardsync_v1_GetObjectResponse>;
  
  ListIndex: grpc.handleUnaryCall<_shardsync_v1_ListIndexRequest__Output, _shardsync_v1_ListIndexResponse>;
  
  ListShards: grpc.handleUnaryCall<_shardsync_v1_ListShardsRequest__Output, _shardsync_v1_ListShardsResponse>;
  
  NotifyReshardComplete: grpc.handleUnaryCall<_shardsync_v1_NotifyReshardCompleteRequest__Output, _shardsync_v1_NotifyReshardCompleteResponse>;
  
  PullChanges: grpc.handleUnaryCall<_shardsync_v1_PullChangesRequest__Output, _shardsync_v1_PullChangesResponse>;
  
  QuerySplitState: grpc.handleUnaryCall<_shardsync_v1_QuerySplitStateRequest__Output, _shardsync_v1_QuerySplitStateResponse>;
  
  ReportPositions: grpc.handleUnaryCall<_shardsync_v1_ReportPositionsRequest__Output, _shardsync_v1_ReportPositionsResponse>;
  
  StreamShard: grpc.handleServerStreamingCall<_shardsync_v1_StreamShardRequest__Output, _shardsync_v1_StreamShardResponse>;
  
}

export interface SyncServiceDefinition extends grpc.ServiceDefinition {
  FetchObjects: MethodDefinition<_shardsync_v1_FetchObjectsRequest, _shardsync_v1_FetchObjectsResponse, _shardsync_v1_FetchObjectsRequest__Output, _shardsync_v1_FetchObjectsResponse__Output>
  GetObject: MethodDefinition<_shardsync_v1_GetObjectRequest, _shardsync_v1_GetObjectResponse, _shardsync_v1_GetObjectRequest__Output, _shardsync_v1_GetObjectResponse__Output>
  ListIndex: MethodDefinition<_shardsync_v1_ListIndexRequest, _shardsync_v1_ListIndexResponse, _shardsync_v1_ListIndexRequest__Output, _shardsync_v1_ListIndexResponse__Output>
  ListShards: MethodDefinition<_shardsync_v1_ListShardsRequest, _shardsync_v1_ListShardsResponse, _shardsync_v1_ListShardsRequest__Output, _shardsync_v1_ListShardsResponse__Output>
  NotifyReshardComplete: MethodDefinition<_shardsync_v1_NotifyReshardCompleteRequest, _shardsync_v1_NotifyReshardCompleteResponse, _shardsync_v1_NotifyReshardCompleteRequest__Output, _shardsync_v1_NotifyReshardCompleteResponse__Output>
  PullChanges: MethodDefinition<_shardsync_v1_PullChangesRequest, _shardsync_v1_PullChangesResponse, _shardsync_v1_PullChangesRequest__Output, _shardsync_v1_PullChangesResponse__Output>
  QuerySplitState: MethodDefinition<_shardsync_v1_QuerySplitStateRequest, _shardsync_v1_QuerySplitStateResponse, _shardsync_v1_QuerySplitStateRequest__Output, _shardsync_v1_QuerySplitStateResponse__Output>
  ReportPositions: MethodDefinition<_shardsync_v1_ReportPositionsRequest, _shardsync_v1_ReportPositionsResponse, _shardsync_v1_ReportPositionsRequest__Output, _shardsync_v1_ReportPositionsResponse__Output>
  StreamShard: MethodDefinition<_shardsync_v1_StreamShardRequest, _shardsync_v1_StreamShardResponse, _shardsync_v1_StreamShardRequest__Output, _shardsync_v1_StreamShardResponse__Output>
}
