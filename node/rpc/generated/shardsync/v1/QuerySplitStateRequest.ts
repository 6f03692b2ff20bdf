// Original file: proto/shardsync/v1/sync.proto


export interface QuerySplitStateRequest {
  'bucket'?: (string);
  'shard'?: (number);
}

export interface QuerySplitStateRequest__Output {
  'bucket': (string);
  'shard': (number);
}
