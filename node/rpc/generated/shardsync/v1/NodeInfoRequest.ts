// Original file: proto/shardsync/v1/admin.proto


export interface NodeInfoRequest {
}

export interface NodeInfoRequest__Output {
}
