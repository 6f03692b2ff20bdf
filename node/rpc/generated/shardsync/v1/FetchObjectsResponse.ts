// Original file: proto/shardsync/v1/sync.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';
import type { FetchedObject as _shardsync_v1_FetchedObject, FetchedObject__Output as _shardsync_v1_FetchedObject__Output } from '../../shardsync/v1/FetchedObject';

export interface FetchObjectsResponse {
  'info'?: (_shardsync_v1_ObjectInfo | null);
  'missing'?: (boolean);
  'data'?: (Buffer | Uint8Array | string);
  'objects'?: (_shardsync_v1_FetchedObject)[];
}

export interface FetchObjectsResponse__Output {
  'info': (_shardsync_v1_ObjectInfo__Output | null);
  'missing': (boolean);
  'data': (Buffer);
  'objects': (_shardsync_v1_FetchedObject__Output)[];
}
