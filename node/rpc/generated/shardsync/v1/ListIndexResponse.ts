// Original file: proto/shardsync/v1/sync.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';

export interface ListIndexResponse {
  'entries'?: (_shardsync_v1_ObjectInfo)[];
  'nextMarker'?: (string);
  'tombstones'?: (_shardsync_v1_ObjectInfo)[];
}

export interface ListIndexResponse__Output {
  'entries': (_shardsync_v1_ObjectInfo__Output)[];
  'nextMarker': (string);
  'tombstones': (_shardsync_v1_ObjectInfo__Output)[];
}
