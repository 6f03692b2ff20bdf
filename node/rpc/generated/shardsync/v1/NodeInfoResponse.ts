// Original file: proto/shardsync/v1/admin.proto

import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from '../../shardsync/v1/Bucket';

export interface NodeInfoResponse {
  'siteId'?: (string);
  'version'?: (string);
  'buckets'?: (_shardsync_v1_Bucket)[];
  'syncMode'?: (string);
}

export interface NodeInfoResponse__Output {
  'siteId': (string);
  'version': (string);
  'buckets': (_shardsync_v1_Bucket__Output)[];
  'syncMode': (string);
}
