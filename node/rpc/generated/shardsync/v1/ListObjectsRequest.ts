// Original file: proto/shardsync/v1/object.proto


export interface ListObjectsRequest {
  'bucket'?: (string);
  'prefix'?: (string);
  'startAfter'?: (string);
  'limit'?: (number);
}

export interface ListObjectsRequest__Output {
  'bucket': (string);
  'prefix': (string);
  'startAfter': (string);
  'limit': (number);
}
