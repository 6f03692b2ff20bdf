// Original file: proto/shardsync/v1/object.proto


export interface PutObjectRequest {
  'bucket'?: (string);
  'key'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface PutObjectRequest__Output {
  'bucket': (string);
  'key': (string);
  'data': (Buffer);
}
