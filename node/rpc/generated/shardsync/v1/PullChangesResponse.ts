// Original file: proto/shardsync/v1/sync.proto

import type { LogEntry as _shardsync_v1_LogEntry, LogEntry__Output as _shardsync_v1_LogEntry__Output } from '../../shardsync/v1/LogEntry';
import type { ShardCursor as _shardsync_v1_ShardCursor, ShardCursor__Output as _shardsync_v1_ShardCursor__Output } from '../../shardsync/v1/ShardCursor';

export interface PullChangesResponse {
  'entries'?: (_shardsync_v1_LogEntry)[];
  'positions'?: (_shardsync_v1_ShardCursor)[];
  'shardCount'?: (number);
  'heads'?: (_shardsync_v1_ShardCursor)[];
}

export interface PullChangesResponse__Output {
  'entries': (_shardsync_v1_LogEntry__Output)[];
  'positions': (_shardsync_v1_ShardCursor__Output)[];
  'shardCount': (number);
  'heads': (_shardsync_v1_ShardCursor__Output)[];
}
