// Original file: proto/shardsync/v1/object.proto


export interface HeadObjectRequest {
  'bucket'?: (string);
  'key'?: (string);
}

export interface HeadObjectRequest__Output {
  'bucket': (string);
  'key': (string);
}
