// Original file: proto/shardsync/v1/sync.proto

import type { Long } from '@grpc/proto-loader';

export interface ShardCursor {
  'shard'?: (number);
  'afterSeq'?: (number | string | Long);
}

export interface ShardCursor__Output {
  'shard': (number);
  'afterSeq': (number);
}
