// Original file: proto/shardsync/v1/sync.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';
import type { FetchedObject as _shardsync_v1_FetchedObject, FetchedObject__Output as _shardsync_v1_FetchedObject__Output } from '../../shardsync/v1/FetchedObject';
import type { StreamShardStart as _shardsync_v1_StreamShardStart, StreamShardStart__Output as _shardsync_v1_StreamShardStart__Output } from '../../shardsync/v1/StreamShardStart';

export interface StreamShardResponse {
  'references'?: (_shardsync_v1_ObjectInfo)[];
  'resumeMarker'?: (string);
  'tombstones'?: (_shardsync_v1_ObjectInfo)[];
  'objects'?: (_shardsync_v1_FetchedObject)[];
  'endOfBatch'?: (boolean);
  'done'?: (boolean);
  'start'?: (_shardsync_v1_StreamShardStart | null);
}

export interface StreamShardResponse__Output {
  'references': (_shardsync_v1_ObjectInfo__Output)[];
  'resumeMarker': (string);
  'tombstones': (_shardsync_v1_ObjectInfo__Output)[];
  'objects': (_shardsync_v1_FetchedObject__Output)[];
  'endOfBatch': (boolean);
  'done': (boolean);
  'start': (_shardsync_v1_StreamShardStart__Output | null);
}
