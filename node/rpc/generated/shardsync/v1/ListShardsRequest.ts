// Original file: proto/shardsync/v1/sync.proto


export interface ListShardsRequest {
  'bucket'?: (string);
}

export interface ListShardsRequest__Output {
  'bucket': (string);
}
