// Original file: proto/shardsync/v1/admin.proto


export interface ListPeersRequest {
}

export interface ListPeersRequest__Output {
}
