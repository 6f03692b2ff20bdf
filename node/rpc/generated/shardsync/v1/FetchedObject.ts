// Original file: proto/shardsync/v1/sync.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';

export interface FetchedObject {
  'info'?: (_shardsync_v1_ObjectInfo | null);
  'missing'?: (boolean);
  'data'?: (Buffer | Uint8Array | string);
}

export interface FetchedObject__Output {
  'info': (_shardsync_v1_ObjectInfo__Output | null);
  'missing': (boolean);
  'data': (Buffer);
}
