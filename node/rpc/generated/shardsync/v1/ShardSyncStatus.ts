// Original file: proto/shardsync/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ShardSyncStatus {
  'shard'?: (number);
  'state'?: (string);
  'listed'?: (number | string | Long);
  'applied'?: (number | string | Long);
  'sourceIndexCount'?: (number | string | Long);
  'logCursor'?: (number | string | Long);
  'logHead'?: (number | string | Long);
  'entriesBehind'?: (number | string | Long);
  'secondsBehind'?: (number | string);
  'newShardsByNotice'?: (number)[];
  'newShardsByPull'?: (number)[];
  'foundBy'?: (string);
  'splittingRetries'?: (number);
  'lastError'?: (string);
  'lastErrorMs'?: (number | string | Long);
}

export interface ShardSyncStatus__Output {
  'shard': (number);
  'state': (string);
  'listed': (number);
  'applied': (number);
  'sourceIndexCount': (number);
  'logCursor': (number);
  'logHead': (number);
  'entriesBehind': (number);
  'secondsBehind': (number);
  'newShardsByNotice': (number)[];
  'newShardsByPull': (number)[];
  'foundBy': (string);
  'splittingRetries': (number);
  'lastError': (string);
  'lastErrorMs': (number);
}
