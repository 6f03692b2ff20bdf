// Original file: proto/shardsync/v1/admin.proto


export interface SplitShardRequest {
  'bucket'?: (string);
  'shard'?: (number);
}

export interface SplitShardRequest__Output {
  'bucket': (string);
  'shard': (number);
}
