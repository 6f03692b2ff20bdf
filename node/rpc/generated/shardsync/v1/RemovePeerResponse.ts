// Original file: proto/shardsync/v1/admin.proto


export interface RemovePeerResponse {
}

export interface RemovePeerResponse__Output {
}
