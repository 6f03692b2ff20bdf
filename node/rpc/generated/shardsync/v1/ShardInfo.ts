// Original file: proto/shardsync/v1/common.proto

import type { SplitState as _shardsync_v1_SplitState, SplitState__Output as _shardsync_v1_SplitState__Output } from '../../shardsync/v1/SplitState';
import type { Long } from '@grpc/proto-loader';

export interface ShardInfo {
  'shard'?: (number);
  'state'?: (_shardsync_v1_SplitState);
  'parent'?: (number);
  'children'?: (number)[];
  'indexCount'?: (number | string | Long);
  'logSeq'?: (number | string | Long);
  'logFloor'?: (number | string | Long);
}

export interface ShardInfo__Output {
  'shard': (number);
  'state': (_shardsync_v1_SplitState__Output);
  'parent': (number);
  'children': (number)[];
  'indexCount': (number);
  'logSeq': (number);
  'logFloor': (number);
}
