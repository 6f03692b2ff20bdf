// Original file: proto/shardsync/v1/sync.proto

import type { ShardPosition as _shardsync_v1_ShardPosition, ShardPosition__Output as _shardsync_v1_ShardPosition__Output } from '../../shardsync/v1/ShardPosition';
import type { ShardCursor as _shardsync_v1_ShardCursor, ShardCursor__Output as _shardsync_v1_ShardCursor__Output } from '../../shardsync/v1/ShardCursor';

export interface ReportPositionsRequest {
  'bucket'?: (string);
  'positions'?: (_shardsync_v1_ShardPosition)[];
  'reporterBucketId'?: (string);
  'heads'?: (_shardsync_v1_ShardCursor)[];
}

export interface ReportPositionsRequest__Output {
  'bucket': (string);
  'positions': (_shardsync_v1_ShardPosition__Output)[];
  'reporterBucketId': (string);
  'heads': (_shardsync_v1_ShardCursor__Output)[];
}
