// Original file: proto/shardsync/v1/object.proto


export interface DeleteObjectResponse {
}

export interface DeleteObjectResponse__Output {
}
