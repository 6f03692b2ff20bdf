// Original file: proto/shardsync/v1/sync.proto

import type { ShardCursor as _shardsync_v1_ShardCursor, ShardCursor__Output as _shardsync_v1_ShardCursor__Output } from '../../shardsync/v1/ShardCursor';

export interface PullChangesRequest {
  'bucket'?: (string);
  'cursors'?: (_shardsync_v1_ShardCursor)[];
  'limit'?: (number);
  'waitMs'?: (number);
  'excludeOrigin'?: (string);
  'maxInlineBytes'?: (number);
}

export interface PullChangesRequest__Output {
  'bucket': (string);
  'cursors': (_shardsync_v1_ShardCursor__Output)[];
  'limit': (number);
  'waitMs': (number);
  'excludeOrigin': (string);
  'maxInlineBytes': (number);
}
