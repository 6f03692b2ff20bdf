// Original file: proto/shardsync/v1/object.proto

import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from '../../shardsync/v1/Bucket';

export interface ListBucketsResponse {
  'buckets'?: (_shardsync_v1_Bucket)[];
}

export interface ListBucketsResponse__Output {
  'buckets': (_shardsync_v1_Bucket__Output)[];
}
