// Original file: proto/shardsync/v1/object.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateBucketRequest {
  'name'?: (string);
  'initialShards'?: (number);
  'splitThreshold'?: (number | string | Long);
  'autoSplit'?: (boolean);
  '_autoSplit'?: "autoSplit";
}

export interface CreateBucketRequest__Output {
  'name': (string);
  'initialShards': (number);
  'splitThreshold': (number);
  'autoSplit'?: (boolean);
  '_autoSplit'?: "autoSplit";
}
