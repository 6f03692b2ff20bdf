// Original file: proto/shardsync/v1/object.proto


export interface DeleteObjectRequest {
  'bucket'?: (string);
  'key'?: (string);
}

export interface DeleteObjectRequest__Output {
  'bucket': (string);
  'key': (string);
}
