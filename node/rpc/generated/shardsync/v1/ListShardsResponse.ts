// Original file: proto/shardsync/v1/sync.proto

import type { ShardInfo as _shardsync_v1_ShardInfo, ShardInfo__Output as _shardsync_v1_ShardInfo__Output } from '../../shardsync/v1/ShardInfo';

export interface ListShardsResponse {
  'bucketId'?: (string);
  'shards'?: (_shardsync_v1_ShardInfo)[];
}

export interface ListShardsResponse__Output {
  'bucketId': (string);
  'shards': (_shardsync_v1_ShardInfo__Output)[];
}
