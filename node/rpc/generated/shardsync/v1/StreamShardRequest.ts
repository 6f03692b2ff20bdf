// Original file: proto/shardsync/v1/sync.proto


export interface StreamShardRequest {
  'bucket'?: (string);
  'shard'?: (number);
  'marker'?: (string);
  'includeDeleted'?: (boolean);
  'inlineMaxBytes'?: (number);
  'referenceOriginSite'?: (string);
}

export interface StreamShardRequest__Output {
  'bucket': (string);
  'shard': (number);
  'marker': (string);
  'includeDeleted': (boolean);
  'inlineMaxBytes': (number);
  'referenceOriginSite': (string);
}
