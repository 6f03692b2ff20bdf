// Original file: proto/shardsync/v1/admin.proto


export interface RemovePeerRequest {
  'id'?: (string);
}

export interface RemovePeerRequest__Output {
  'id': (string);
}
