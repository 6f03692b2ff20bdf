// Original file: proto/shardsync/v1/admin.proto

import type { ShardSyncStatus as _shardsync_v1_ShardSyncStatus, ShardSyncStatus__Output as _shardsync_v1_ShardSyncStatus__Output } from '../../shardsync/v1/ShardSyncStatus';
import type { Long } from '@grpc/proto-loader';

export interface BucketSyncStatus {
  'bucket'?: (string);
  'sourceBucketId'?: (string);
  'shards'?: (number);
  'shardsFull'?: (number);
  'shardsIncremental'?: (number);
  'shardsBehind'?: (number);
  'entriesBehind'?: (number | string | Long);
  'secondsBehind'?: (number | string);
  'shardStatus'?: (_shardsync_v1_ShardSyncStatus)[];
}

export interface BucketSyncStatus__Output {
  'bucket': (string);
  'sourceBucketId': (string);
  'shards': (number);
  'shardsFull': (number);
  'shardsIncremental': (number);
  'shardsBehind': (number);
  'entriesBehind': (number);
  'secondsBehind': (number);
  'shardStatus': (_shardsync_v1_ShardSyncStatus__Output)[];
}
