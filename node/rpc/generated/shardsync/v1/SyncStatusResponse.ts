// Original file: proto/shardsync/v1/admin.proto

import type { PeerSyncStatus as _shardsync_v1_PeerSyncStatus, PeerSyncStatus__Output as _shardsync_v1_PeerSyncStatus__Output } from '../../shardsync/v1/PeerSyncStatus';
import type { Long } from '@grpc/proto-loader';

export interface SyncStatusResponse {
  'siteId'?: (string);
  'peers'?: (_shardsync_v1_PeerSyncStatus)[];
  'noticesReceived'?: (number | string | Long);
  'noticesStored'?: (number | string | Long);
  'noticesIgnored'?: (number | string | Long);
  'noticesRejected'?: (number | string | Long);
  'logEntries'?: (number | string | Long);
  'tombstones'?: (number | string | Long);
}

export interface SyncStatusResponse__Output {
  'siteId': (string);
  'peers': (_shardsync_v1_PeerSyncStatus__Output)[];
  'noticesReceived': (number);
  'noticesStored': (number);
  'noticesIgnored': (number);
  'noticesRejected': (number);
  'logEntries': (number);
  'tombstones': (number);
}
