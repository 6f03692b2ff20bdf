// Original file: proto/shardsync/v1/admin.proto


export interface Peer {
  'id'?: (string);
  'address'?: (string);
}

export interface Peer__Output {
  'id': (string);
  'address': (string);
}
