// Original file: proto/shardsync/v1/sync.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';
import type { Long } from '@grpc/proto-loader';

export interface LogEntry {
  'shard'?: (number);
  'seq'?: (number | string | Long);
  'deleted'?: (boolean);
  'info'?: (_shardsync_v1_ObjectInfo | null);
  'data'?: (Buffer | Uint8Array | string);
  'hasData'?: (boolean);
}

export interface LogEntry__Output {
  'shard': (number);
  'seq': (number);
  'deleted': (boolean);
  'info': (_shardsync_v1_ObjectInfo__Output | null);
  'data': (Buffer);
  'hasData': (boolean);
}
