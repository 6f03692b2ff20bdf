// Original file: proto/shardsync/v1/sync.proto


export interface ListIndexRequest {
  'bucket'?: (string);
  'shard'?: (number);
  'marker'?: (string);
  'limit'?: (number);
  'includeDeleted'?: (boolean);
}

export interface ListIndexRequest__Output {
  'bucket': (string);
  'shard': (number);
  'marker': (string);
  'limit': (number);
  'includeDeleted': (boolean);
}
