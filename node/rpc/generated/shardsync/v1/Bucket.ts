// Original file: proto/shardsync/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface Bucket {
  'name'?: (string);
  'id'?: (string);
  'initialShards'?: (number);
  'shardCount'?: (number);
  'splitThreshold'?: (number | string | Long);
  'autoSplit'?: (boolean);
  'createdMs'?: (number | string | Long);
  'objectCount'?: (number | string | Long);
}

export interface Bucket__Output {
  'name': (string);
  'id': (string);
  'initialShards': (number);
  'shardCount': (number);
  'splitThreshold': (number);
  'autoSplit': (boolean);
  'createdMs': (number);
  'objectCount': (number);
}
