// Original file: proto/shardsync/v1/object.proto


export interface DeleteBucketRequest {
  'name'?: (string);
}

export interface DeleteBucketRequest__Output {
  'name': (string);
}
