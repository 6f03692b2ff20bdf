// Original file: proto/shardsync/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SplitShardResponse {
  'shard'?: (number);
  'newShard'?: (number);
  'moved'?: (number | string | Long);
}

export interface SplitShardResponse__Output {
  'shard': (number);
  'newShard': (number);
  'moved': (number);
}
