// Original file: proto/shardsync/v1/sync.proto

import type { SplitState as _shardsync_v1_SplitState, SplitState__Output as _shardsync_v1_SplitState__Output } from '../../shardsync/v1/SplitState';
import type { Long } from '@grpc/proto-loader';

export interface StreamShardStart {
  'state'?: (_shardsync_v1_SplitState);
  'newShards'?: (number)[];
  'logSeq'?: (number | string | Long);
  'bucketId'?: (string);
  'shardCount'?: (number);
  'filling'?: (boolean);
}

export interface StreamShardStart__Output {
  'state': (_shardsync_v1_SplitState__Output);
  'newShards': (number)[];
  'logSeq': (number);
  'bucketId': (string);
  'shardCount': (number);
  'filling': (boolean);
}
