// Original file: proto/shardsync/v1/object.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';

export interface ListObjectsResponse {
  'objects'?: (_shardsync_v1_ObjectInfo)[];
  'nextStartAfter'?: (string);
}

export interface ListObjectsResponse__Output {
  'objects': (_shardsync_v1_ObjectInfo__Output)[];
  'nextStartAfter': (string);
}
