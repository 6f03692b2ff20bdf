// Original file: proto/shardsync/v1/admin.proto


export interface AddPeerRequest {
  'id'?: (string);
  'address'?: (string);
}

export interface AddPeerRequest__Output {
  'id': (string);
  'address': (string);
}
