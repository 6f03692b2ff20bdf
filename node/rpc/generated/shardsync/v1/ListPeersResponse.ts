// Original file: proto/shardsync/v1/admin.proto

import type { Peer as _shardsync_v1_Peer, Peer__Output as _shardsync_v1_Peer__Output } from '../../shardsync/v1/Peer';

export interface ListPeersResponse {
  'peers'?: (_shardsync_v1_Peer)[];
}

export interface ListPeersResponse__Output {
  'peers': (_shardsync_v1_Peer__Output)[];
}
