// Original file: proto/shardsync/v1/object.proto


export interface ListBucketsRequest {
  'includeDeleted'?: (boolean);
}

export interface ListBucketsRequest__Output {
  'includeDeleted': (boolean);
}
