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
  'generationId'?: (string);
  'generationCreatedMs'?: (number | string | Long);
  'generationSite'?: (string);
  'mergedGenerations'?: (string)[];
  'floorMs'?: (number | string | Long);
  'floorSite'?: (string);
  'deleted'?: (boolean);
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
  'generationId': (string);
  'generationCreatedMs': (number);
  'generationSite': (string);
  'mergedGenerations': (string)[];
  'floorMs': (number);
  'floorSite': (string);
  'deleted': (boolean);
}
