// Original file: proto/shardsync/v1/sync.proto


export interface FetchObjectsRequest {
  'bucket'?: (string);
  'keys'?: (string)[];
}

export interface FetchObjectsRequest__Output {
  'bucket': (string);
  'keys': (string)[];
}
