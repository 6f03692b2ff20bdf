// Original file: proto/shardsync/v1/sync.proto

import type { Long } from '@grpc/proto-loader';

export interface ShardPosition {
  'shard'?: (number);
  'seq'?: (number | string | Long);
  'incremental'?: (boolean);
}

export interface ShardPosition__Output {
  'shard': (number);
  'seq': (number);
  'incremental': (boolean);
}
