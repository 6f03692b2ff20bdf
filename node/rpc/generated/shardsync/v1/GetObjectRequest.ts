// Original file: proto/shardsync/v1/object.proto


export interface GetObjectRequest {
  'bucket'?: (string);
  'key'?: (string);
}

export interface GetObjectRequest__Output {
  'bucket': (string);
  'key': (string);
}
