// Original file: proto/shardsync/v1/object.proto

import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';

export interface GetObjectResponse {
  'info'?: (_shardsync_v1_ObjectInfo | null);
  'data'?: (Buffer | Uint8Array | string);
}

export interface GetObjectResponse__Output {
  'info': (_shardsync_v1_ObjectInfo__Output | null);
  'data': (Buffer);
}
