// Original file: proto/shardsync/v1/admin.proto

import type { BucketSyncStatus as _shardsync_v1_BucketSyncStatus, BucketSyncStatus__Output as _shardsync_v1_BucketSyncStatus__Output } from '../../shardsync/v1/BucketSyncStatus';
import type { Long } from '@grpc/proto-loader';

export interface PeerSyncStatus {
  'peer'?: (string);
  'address'?: (string);
  'caughtUp'?: (boolean);
  'shardsBehind'?: (number);
  'oldestUnappliedSeconds'?: (number | string);
  'summary'?: (string);
  'objectsSynced'?: (number | string | Long);
  'bytesSynced'?: (number | string | Long);
  'outboxDepth'?: (number);
  'noticesSent'?: (number | string | Long);
  'noticesRetried'?: (number | string | Long);
  'lastError'?: (string);
  'lastErrorMs'?: (number | string | Long);
  'buckets'?: (_shardsync_v1_BucketSyncStatus)[];
}

export interface PeerSyncStatus__Output {
  'peer': (string);
  'address': (string);
  'caughtUp': (boolean);
  'shardsBehind': (number);
  'oldestUnappliedSeconds': (number);
  'summary': (string);
  'objectsSynced': (number);
  'bytesSynced': (number);
  'outboxDepth': (number);
  'noticesSent': (number);
  'noticesRetried': (number);
  'lastError': (string);
  'lastErrorMs': (number);
  'buckets': (_shardsync_v1_BucketSyncStatus__Output)[];
}
