import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from './shardsync/v1/Bucket';
import type { CreateBucketRequest as _shardsync_v1_CreateBucketRequest, CreateBucketRequest__Output as _shardsync_v1_CreateBucketRequest__Output } from './shardsync/v1/CreateBucketRequest';
import type { DeleteBucketRequest as _shardsync_v1_DeleteBucketRequest, DeleteBucketRequest__Output as _shardsync_v1_DeleteBucketRequest__Output } from './shardsync/v1/DeleteBucketRequest';
import type { DeleteBucketResponse as _shardsync_v1_DeleteBucketResponse, DeleteBucketResponse__Output as _shardsync_v1_DeleteBucketResponse__Output } from './shardsync/v1/DeleteBucketResponse';
import type { DeleteObjectRequest as _shardsync_v1_DeleteObjectRequest, DeleteObjectRequest__Output as _shardsync_v1_DeleteObjectRequest__Output } from './shardsync/v1/DeleteObjectRequest';
import type { DeleteObjectResponse as _shardsync_v1_DeleteObjectResponse, DeleteObjectResponse__Output as _shardsync_v1_DeleteObjectResponse__Output } from './shardsync/v1/DeleteObjectResponse';
import type { FetchObjectsRequest as _shardsync_v1_FetchObjectsRequest, FetchObjectsRequest__Output as _shardsync_v1_FetchObjectsRequest__Output } from './shardsync/v1/FetchObjectsRequest';
import type { FetchObjectsResponse as _shardsync_v1_FetchObjectsResponse, FetchObjectsResponse__Output as _shardsync_v1_FetchObjectsResponse__Output } from './shardsync/v1/FetchObjectsResponse';
import type { FetchedObject as _shardsync_v1_FetchedObject, FetchedObject__Output as _shardsync_v1_FetchedObject__Output } from './shardsync/v1/FetchedObject';
import type { GetObjectRequest as _shardsync_v1_GetObjectRequest, GetObjectRequest__Output as _shardsync_v1_GetObjectRequest__Output } from './shardsync/v1/GetObjectRequest';
import type { GetObjectResponse as _shardsync_v1_GetObjectResponse, GetObjectResponse__Output as _shardsync_v1_GetObjectResponse__Output } from './shardsync/v1/GetObjectResponse';
import type { HeadObjectRequest as _shardsync_v1_HeadObjectRequest, HeadObjectRequest__Output as _shardsync_v1_HeadObjectRequest__Output } from './shardsync/v1/HeadObjectRequest';
import type { ListBucketsRequest as _shardsync_v1_ListBucketsRequest, ListBucketsRequest__Output as _shardsync_v1_ListBucketsRequest__Output } from './shardsync/v1/ListBucketsRequest';
import type { ListBucketsResponse as _shardsync_v1_ListBucketsResponse, ListBucketsResponse__Output as _shardsync_v1_ListBucketsResponse__Output } from './shardsync/v1/ListBucketsResponse';
import type { ListIndexRequest as _shardsync_v1_ListIndexRequest, ListIndexRequest__Output as _shardsync_v1_ListIndexRequest__Output } from './shardsync/v1/ListIndexRequest';
import type { ListIndexResponse as _shardsync_v1_ListIndexResponse, ListIndexResponse__Output as _shardsync_v1_ListIndexResponse__Output } from './shardsync/v1/ListIndexResponse';
import type { ListObjectsRequest as _shardsync_v1_ListObjectsRequest, ListObjectsRequest__Output as _shardsync_v1_ListObjectsRequest__Output } from './shardsync/v1/ListObjectsRequest';
import type { ListObjectsResponse as _shardsync_v1_ListObjectsResponse, ListObjectsResponse__Output as _shardsync_v1_ListObjectsResponse__Output } from './shardsync/v1/ListObjectsResponse';
import type { ListShardsRequest as _shardsync_v1_ListShardsRequest, ListShardsRequest__Output as _shardsync_v1_ListShardsRequest__Output } from './shardsync/v1/ListShardsRequest';
import type { ListShardsResponse as _shardsync_v1_ListShardsResponse, ListShardsResponse__Output as _shardsync_v1_ListShardsResponse__Output } from './shardsync/v1/ListShardsResponse';
import type { LogEntry as _shardsync_v1_LogEntry, LogEntry__Output as _shardsync_v1_LogEntry__Output } from './shardsync/v1/LogEntry';
import type { NotifyReshardCompleteRequest as _shardsync_v1_NotifyReshardCompleteRequest, NotifyReshardCompleteRequest__Output as _shardsync_v1_NotifyReshardCompleteRequest__Output } from './shardsync/v1/NotifyReshardCompleteRequest';
import type { NotifyReshardCompleteResponse as _shardsync_v1_NotifyReshardCompleteResponse, NotifyReshardCompleteResponse__Output as _shardsync_v1_NotifyReshardCompleteResponse__Output } from './shardsync/v1/NotifyReshardCompleteResponse';
import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from './shardsync/v1/ObjectInfo';
import type { ObjectServiceClient as _shardsync_v1_ObjectServiceClient, ObjectServiceDefinition as _shardsync_v1_ObjectServiceDefinition } from './shardsync/v1/ObjectService';
import type { PullChangesRequest as _shardsync_v1_PullChangesRequest, PullChangesRequest__Output as _shardsync_v1_PullChangesRequest__Output } from './shardsync/v1/PullChangesRequest';
import type { PullChangesResponse as _shardsync_v1_PullChangesResponse, PullChangesResponse__Output as _shardsync_v1_PullChangesResponse__Output } from './shardsync/v1/PullChangesResponse';
import type { PutObjectRequest as _shardsync_v1_PutObjectRequest, PutObjectRequest__Output as _shardsync_v1_PutObjectRequest__Output } from './shardsync/v1/PutObjectRequest';
import type { QuerySplitStateRequest as _shardsync_v1_QuerySplitStateRequest, QuerySplitStateRequest__Output as _shardsync_v1_QuerySplitStateRequest__Output } from './shardsync/v1/QuerySplitStateRequest';
import type { QuerySplitStateResponse as _shardsync_v1_QuerySplitStateResponse, QuerySplitStateResponse__Output as _shardsync_v1_QuerySplitStateResponse__Output } from './shardsync/v1/QuerySplitStateResponse';
import type { ReportPositionsRequest as _shardsync_v1_ReportPositionsRequest, ReportPositionsRequest__Output as _shardsync_v1_ReportPositionsRequest__Output } from './shardsync/v1/ReportPositionsRequest';
import type { ReportPositionsResponse as _shardsync_v1_ReportPositionsResponse, ReportPositionsResponse__Output as _shardsync_v1_ReportPositionsResponse__Output } from './shardsync/v1/ReportPositionsResponse';
import type { ShardCursor as _shardsync_v1_ShardCursor, ShardCursor__Output as _shardsync_v1_ShardCursor__Output } from './shardsync/v1/ShardCursor';
import type { ShardInfo as _shardsync_v1_ShardInfo, ShardInfo__Output as _shardsync_v1_ShardInfo__Output } from './shardsync/v1/ShardInfo';
import type { ShardPosition as _shardsync_v1_ShardPosition, ShardPosition__Output as _shardsync_v1_ShardPosition__Output } from './shardsync/v1/ShardPosition';
import type { StreamShardRequest as _shardsync_v1_StreamShardRequest, StreamShardRequest__Output as _shardsync_v1_StreamShardRequest__Output } from './shardsync/v1/StreamShardRequest';
import type { StreamShardResponse as _shardsync_v1_StreamShardResponse, StreamShardResponse__Output as _shardsync_v1_StreamShardResponse__Output } from './shardsync/v1/StreamShardResponse';
import type { StreamShardStart as _shardsync_v1_StreamShardStart, StreamShardStart__Output as _shardsync_v1_StreamShardStart__Output } from './shardsync/v1/StreamShardStart';
import type { SyncServiceClient as _shardsync_v1_SyncServiceClient, SyncServiceDefinition as _shardsync_v1_SyncServiceDefinition } from './shardsync/v1/SyncService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  shardsync: {
    v1: {
      Bucket: MessageTypeDefinition<_shardsync_v1_Bucket, _shardsync_v1_Bucket__Output>
      CreateBucketRequest: MessageTypeDefinition<_shardsync_v1_CreateBucketRequest, _shardsync_v1_CreateBucketRequest__Output>
      DeleteBucketRequest: MessageTypeDefinition<_shardsync_v1_DeleteBucketRequest, _shardsync_v1_DeleteBucketRequest__Output>
      DeleteBucketResponse: MessageTypeDefinition<_shardsync_v1_DeleteBucketResponse, _shardsync_v1_DeleteBucketResponse__Output>
      DeleteObjectRequest: MessageTypeDefinition<_shardsync_v1_DeleteObjectRequest, _shardsync_v1_DeleteObjectRequest__Output>
      DeleteObjectResponse: MessageTypeDefinition<_shardsync_v1_DeleteObjectResponse, _shardsync_v1_DeleteObjectResponse__Output>
      FetchObjectsRequest: MessageTypeDefinition<_shardsync_v1_FetchObjectsRequest, _shardsync_v1_FetchObjectsRequest__Output>
      FetchObjectsResponse: MessageTypeDefinition<_shardsync_v1_FetchObjectsResponse, _shardsync_v1_FetchObjectsResponse__Output>
      FetchedObject: MessageTypeDefinition<_shardsync_v1_FetchedObject, _shardsync_v1_FetchedObject__Output>
      GetObjectRequest: MessageTypeDefinition<_shardsync_v1_GetObjectRequest, _shardsync_v1_GetObjectRequest__Output>
      GetObjectResponse: MessageTypeDefinition<_shardsync_v1_GetObjectResponse, _shardsync_v1_GetObjectResponse__Output>
      HeadObjectRequest: MessageTypeDefinition<_shardsync_v1_HeadObjectRequest, _shardsync_v1_HeadObjectRequest__Output>
      ListBucketsRequest: MessageTypeDefinition<_shardsync_v1_ListBucketsRequest, _shardsync_v1_ListBucketsRequest__Output>
      ListBucketsResponse: MessageTypeDefinition<_shardsync_v1_ListBucketsResponse, _shardsync_v1_ListBucketsResponse__Output>
      ListIndexRequest: MessageTypeDefinition<_shardsync_v1_ListIndexRequest, _shardsync_v1_ListIndexRequest__Output>
      ListIndexResponse: MessageTypeDefinition<_shardsync_v1_ListIndexResponse, _shardsync_v1_ListIndexResponse__Output>
      ListObjectsRequest: MessageTypeDefinition<_shardsync_v1_ListObjectsRequest, _shardsync_v1_ListObjectsRequest__Output>
      ListObjectsResponse: MessageTypeDefinition<_shardsync_v1_ListObjectsResponse, _shardsync_v1_ListObjectsResponse__Output>
      ListShardsRequest: MessageTypeDefinition<_shardsync_v1_ListShardsRequest, _shardsync_v1_ListShardsRequest__Output>
      ListShardsResponse: MessageTypeDefinition<_shardsync_v1_ListShardsResponse, _shardsync_v1_ListShardsResponse__Output>
      LogEntry: MessageTypeDefinition<_shardsync_v1_LogEntry, _shardsync_v1_LogEntry__Output>
      NotifyReshardCompleteRequest: MessageTypeDefinition<_shardsync_v1_NotifyReshardCompleteRequest, _shardsync_v1_NotifyReshardCompleteRequest__Output>
      NotifyReshardCompleteResponse: MessageTypeDefinition<_shardsync_v1_NotifyReshardCompleteResponse, _shardsync_v1_NotifyReshardCompleteResponse__Output>
      ObjectInfo: MessageTypeDefinition<_shardsync_v1_ObjectInfo, _shardsync_v1_ObjectInfo__Output>
      ObjectService: SubtypeConstructor<typeof grpc.Client, _shardsync_v1_ObjectServiceClient> & { service: _shardsync_v1_ObjectServiceDefinition }
      PullChangesRequest: MessageTypeDefinition<_shardsync_v1_PullChangesRequest, _shardsync_v1_PullChangesRequest__Output>
      PullChangesResponse: MessageTypeDefinition<_shardsync_v1_PullChangesResponse, _shardsync_v1_PullChangesResponse__Output>
      PutObjectRequest: MessageTypeDefinition<_shardsync_v1_PutObjectRequest, _shardsync_v1_PutObjectRequest__Output>
      QuerySplitStateRequest: MessageTypeDefinition<_shardsync_v1_QuerySplitStateRequest, _shardsync_v1_QuerySplitStateRequest__Output>
      QuerySplitStateResponse: MessageTypeDefinition<_shardsync_v1_QuerySplitStateResponse, _shardsync_v1_QuerySplitStateResponse__Output>
      ReportPositionsRequest: MessageTypeDefinition<_shardsync_v1_ReportPositionsRequest, _shardsync_v1_ReportPositionsRequest__Output>
      ReportPositionsResponse: MessageTypeDefinition<_shardsync_v1_ReportPositionsResponse, _shardsync_v1_ReportPositionsResponse__Output>
      ShardCursor: MessageTypeDefinition<_shardsync_v1_ShardCursor, _shardsync_v1_ShardCursor__Output>
      ShardInfo: MessageTypeDefinition<_shardsync_v1_ShardInfo, _shardsync_v1_ShardInfo__Output>
      ShardPosition: MessageTypeDefinition<_shardsync_v1_ShardPosition, _shardsync_v1_ShardPosition__Output>
      SplitState: EnumTypeDefinition
      StreamShardRequest: MessageTypeDefinition<_shardsync_v1_StreamShardRequest, _shardsync_v1_StreamShardRequest__Output>
      StreamShardResponse: MessageTypeDefinition<_shardsync_v1_StreamShardResponse, _shardsync_v1_StreamShardResponse__Output>
      StreamShardStart: MessageTypeDefinition<_shardsync_v1_StreamShardStart, _shardsync_v1_StreamShardStart__Output>
      SyncService: SubtypeConstructor<typeof grpc.Client, _shardsync_v1_SyncServiceClient> & { service: _shardsync_v1_SyncServiceDefinition }
    }
  }
}

